//! `nightshift ls`: jobs, newest first.

use crate::args::LsArgs;
use crate::client::{Client, encode};
use crate::format::{age, exit, run_time, table};
use crate::out::outln;
use nightshift_api::JobPage;
use std::process::ExitCode;

pub fn run(args: LsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let mut query = vec![format!("limit={}", args.limit)];
    if let Some(state) = args.state {
        query.push(format!("state={state}"));
    }
    if let Some(queue) = &args.queue {
        query.push(format!("queue={}", encode(queue)));
    }
    if let Some(before) = args.before {
        query.push(format!("before={before}"));
    }
    let page: JobPage = client.get(&format!("/api/jobs?{}", query.join("&")))?;
    if args.json {
        crate::format::print_json(&page)?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.jobs.is_empty() {
        outln!("no jobs")?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = page
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.job.id.to_string(),
                j.job.state.to_string(),
                j.job.spec.queue.clone(),
                age(j.job.created_at),
                run_time(j),
                exit(j),
                j.waiting
                    .as_ref()
                    .map_or_else(|| "-".into(), |w| w.message.clone()),
                j.command.clone(),
            ]
        })
        .collect();
    table(
        &[
            "ID", "STATE", "QUEUE", "AGE", "TIME", "EXIT", "WAITING", "COMMAND",
        ],
        &rows,
    )?;
    if let Some(next) = page.next_before {
        outln!("(more: nightshift ls --before {next})")?;
    }
    Ok(ExitCode::SUCCESS)
}
