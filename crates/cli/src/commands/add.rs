//! `nightshift add`: one job from the command line, or a batch from a JSON Lines file.

use crate::args::AddArgs;
use crate::client::{Client, encode};
use crate::commands::wait::{self, exit_code_of};
use crate::out::{self, outln};
use anyhow::{Context, bail};
use nightshift_api::{BatchEnqueued, DurationValue, EnqueueRequest, Enqueued, Health, TimeValue};
use serde_json::value::RawValue;
use std::io::Read;
use std::process::ExitCode;

pub fn run(args: AddArgs) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.batch {
        return batch(file, args.json);
    }
    let client = Client::connect()?;
    let cwd = match &args.cwd {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?
        }
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let payload = match &args.payload {
        None => None,
        Some(arg) => Some(read_payload(&client, arg)?),
    };
    let request = EnqueueRequest {
        cmd: args.command.clone(),
        shell: args.shell,
        env: args.env.iter().cloned().collect(),
        cwd: Some(cwd),
        queue: Some(args.queue.clone()),
        priority: args.priority,
        timeout: args
            .timeout
            .map(|t| DurationValue::Millis(u64::try_from(t.as_millis()).unwrap_or(u64::MAX))),
        run_at: args.at.map(TimeValue::Millis),
        delay: args
            .r#in
            .map(|d| DurationValue::Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))),
        max_attempts: args.attempts,
        notify: args.notify,
        unique: args.unique.clone(),
        payload,
        require_ac: args.require_ac,
        min_battery: args.min_battery,
        on_power_loss: args.on_power_loss,
        after: args.after.clone(),
        leave_running: args.leave_running,
    };
    if args.every.is_some() || args.cron.is_some() {
        return crate::commands::schedules::create(&client, &args, request);
    }
    if args.name.is_some() || args.no_catch_up {
        bail!("--name and --no-catch-up go with --every or --cron");
    }
    let Enqueued { id, existing } = client.post("/api/jobs", &request)?;
    if existing {
        eprintln!("job {id} with this unique key is already queued or running; nothing was added");
    }
    if !args.wait {
        if args.json {
            crate::format::print_json(&serde_json::json!({ "id": id, "existing": existing }))?;
        } else {
            outln!("{id}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = wait::wait_all(&client, &[id], None, false)?;
    let brief = result.finished.first().context("the job did not finish")?;
    if args.json {
        // The job's exit code is the answer: keep it even if the reader went away.
        out::unless_closed(crate::format::print_json(brief))?;
    } else {
        let reason = brief
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        eprintln!("job {id} {}{reason}", brief.state);
    }
    Ok(ExitCode::from(exit_code_of(brief)))
}

/// Reads `--payload`: inline JSON, `@file`, or `@-`. Refuses, before sending, invalid JSON and
/// a payload over the running instance's cap (naming both sizes).
fn read_payload(client: &Client, arg: &str) -> anyhow::Result<Box<RawValue>> {
    let text = match arg.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the payload from stdin")?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read payload file {path}"))?,
        None => arg.to_string(),
    };
    let health: Health = client.get("/api/health")?;
    let size = text.trim().len() as u64;
    if size > health.max_payload_bytes {
        bail!(
            "the payload is {size} bytes ({}), over the limit of {} bytes ({}); nothing was sent. \
             Raise jobs.max_payload_bytes in the config file to allow it",
            nightshift_api::human_bytes(size),
            health.max_payload_bytes,
            nightshift_api::human_bytes(health.max_payload_bytes)
        );
    }
    RawValue::from_string(text.trim().to_string())
        .map_err(|e| anyhow::anyhow!("--payload is not valid JSON: {e}"))
}

fn batch(file: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let path = format!("/api/jobs/batch?cwd={}", encode(&cwd.to_string_lossy()));
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} ({eta})")
            .expect("valid template"),
    );
    bar.set_message("sending");
    let answer: BatchEnqueued = if file.as_os_str() == "-" {
        client.post_stream(
            &path,
            "application/x-ndjson",
            bar.wrap_read(std::io::stdin()),
        )?
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        bar.set_length(f.metadata().map(|m| m.len()).unwrap_or(0));
        client.post_stream(&path, "application/x-ndjson", bar.wrap_read(f))?
    };
    bar.finish_and_clear();
    if json {
        crate::format::print_json(&answer)?;
    } else {
        match (answer.ids.first(), answer.ids.last()) {
            (Some(first), Some(last)) if answer.count > 1 => {
                outln!("added {} jobs, ids {first} to {last}", answer.count)?
            }
            (Some(first), _) => outln!("added 1 job, id {first}")?,
            _ => outln!("added no jobs")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
