//! `nightshift wait`: until jobs finish, with a progress bar for many.

use crate::args::WaitArgs;
use crate::client::Client;
use crate::commands::parse_id;
use crate::exit;
use crate::out::{self, outln};
use nightshift_api::{JobBrief, WaitRequest, WaitResult};
use nightshift_core::duration::deadline_after;
use nightshift_core::{AttemptOutcome, JobId, JobState};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Each request waits at most this long, so a progress bar keeps moving and a restarted daemon
/// is noticed.
const ROUND: Duration = Duration::from_secs(30);

pub fn run(args: WaitArgs) -> anyhow::Result<ExitCode> {
    let ids: Vec<JobId> = args
        .ids
        .iter()
        .map(|s| parse_id(s))
        .collect::<Result<_, _>>()?;
    let client = Client::connect()?;
    let result = wait_all(&client, &ids, args.timeout, ids.len() > 1)?;
    // The exit code says how the jobs ended: keep it even if the reader went away.
    out::unless_closed(print(&result, args.json, ids.len() > 1))?;
    if !result.pending.is_empty() {
        eprintln!("{} job(s) still not finished", result.pending.len());
        return Ok(ExitCode::from(exit::WAIT_TIMEOUT));
    }
    if let [one] = result.finished.as_slice() {
        return Ok(ExitCode::from(exit_code_of(one)));
    }
    let all_ok = result
        .finished
        .iter()
        .all(|b| b.state == JobState::Succeeded);
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::FAILED)
    })
}

fn print(result: &WaitResult, json: bool, many: bool) -> std::io::Result<()> {
    if json {
        crate::format::print_json(result)?;
    } else if many || !result.pending.is_empty() {
        for b in &result.finished {
            outln!(
                "{}\t{}\t{}",
                b.id,
                b.state,
                b.reason.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

/// Waits for every job, in rounds; shows a bar when `progress` and stderr is a terminal.
pub fn wait_all(
    client: &Client,
    ids: &[JobId],
    timeout: Option<Duration>,
    progress: bool,
) -> anyhow::Result<WaitResult> {
    let deadline = deadline_after(Instant::now(), timeout);
    let bar = if progress {
        indicatif::ProgressBar::new(ids.len() as u64).with_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} ({elapsed})")
                .expect("valid template"),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_message("waiting");
    let mut pending: Vec<JobId> = ids.to_vec();
    let mut finished: Vec<JobBrief> = Vec::new();
    while !pending.is_empty() {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            break;
        }
        let round = left.map_or(ROUND, |l| l.min(ROUND));
        let answer: WaitResult = client.post(
            "/api/jobs/wait",
            &WaitRequest {
                ids: pending.clone(),
                any: true,
                timeout_ms: Some(round.as_millis() as u64),
            },
        )?;
        bar.inc(answer.finished.len() as u64);
        finished.extend(answer.finished);
        pending = answer.pending;
    }
    bar.finish_and_clear();
    finished.sort_by_key(|b| b.id);
    Ok(WaitResult { finished, pending })
}

/// The exit code that stands for one finished job.
pub fn exit_code_of(job: &JobBrief) -> u8 {
    match (job.state, job.outcome) {
        (JobState::Succeeded, _) => 0,
        (JobState::Cancelled, _) => exit::JOB_CANCELLED,
        // The timeout's own SIGTERM or SIGKILL ended it: report the timeout, as timeout(1) does.
        (_, Some(AttemptOutcome::TimedOut)) => exit::JOB_TIMED_OUT,
        (_, Some(AttemptOutcome::SpawnFailed)) => exit::JOB_NOT_STARTED,
        _ => match (job.exit_code, job.signal) {
            (Some(code), _) => u8::try_from(code).unwrap_or(exit::FAILED).max(1),
            (None, Some(sig)) => 128u8.saturating_add(sig as u8),
            _ => exit::FAILED,
        },
    }
}
