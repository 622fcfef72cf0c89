//! Recurring jobs: `add --every|--cron` creates one; `schedule ls|pause|resume|run|rm` (and
//! `schedules`) manage them.

use crate::args::{AddArgs, JsonArgs, ScheduleCommand};
use crate::client::{Client, encode};
use crate::format::table;
use crate::out::outln;
use nightshift_api::{DurationValue, EnqueueRequest, Enqueued, ScheduleRequest, ScheduleView};
use std::process::ExitCode;

/// Creates the recurring job `add` describes.
pub fn create(client: &Client, args: &AddArgs, job: EnqueueRequest) -> anyhow::Result<ExitCode> {
    let request = ScheduleRequest {
        name: args.name.clone(),
        every: args.every.clone().map(DurationValue::Human),
        cron: args.cron.clone(),
        catch_up: !args.no_catch_up,
        job,
    };
    let view: ScheduleView = client.post("/api/schedules", &request)?;
    if args.json {
        crate::format::print_json(&view)?;
    } else {
        outln!(
            "schedule {}: {}; next run {}",
            view.name,
            view.recurrence,
            when(view.next_run)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let schedules: Vec<ScheduleView> = Client::connect()?.get("/api/schedules")?;
    if args.json {
        crate::format::print_json(&schedules)?;
        return Ok(ExitCode::SUCCESS);
    }
    if schedules.is_empty() {
        outln!("no recurring jobs: `nightshift add --every 1h -- COMMAND` makes one")?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = schedules
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.recurrence.clone(),
                if s.paused {
                    "paused".into()
                } else {
                    when(s.next_run)
                },
                match (s.last_job, s.last_state) {
                    (Some(id), Some(state)) => format!("{id} ({state})"),
                    (Some(id), None) => format!("{id} (removed)"),
                    _ => "-".into(),
                },
                if s.catch_up { "yes" } else { "no" }.into(),
                s.queue.clone(),
                s.command.clone(),
            ]
        })
        .collect();
    table(
        &[
            "NAME", "WHEN", "NEXT RUN", "LAST JOB", "CATCH-UP", "QUEUE", "COMMAND",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn command(command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let path = |name: &str, action: &str| format!("/api/schedules/{}{action}", encode(name));
    let (view, json, done): (ScheduleView, bool, &str) = match command {
        ScheduleCommand::Ls(args) => return list(args),
        ScheduleCommand::Pause(a) => (
            client.post_empty(&path(&a.name, "/pause"))?,
            a.json,
            "paused",
        ),
        ScheduleCommand::Resume(a) => (
            client.post_empty(&path(&a.name, "/resume"))?,
            a.json,
            "resumed",
        ),
        ScheduleCommand::Run(a) => {
            let Enqueued { id, existing } = client.post_empty(&path(&a.name, "/run"))?;
            if a.json {
                crate::format::print_json(&serde_json::json!({ "id": id, "existing": existing }))?;
            } else if existing {
                eprintln!("its run {id} is still queued or running; nothing was added");
                outln!("{id}")?;
            } else {
                outln!("{id}")?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        ScheduleCommand::Rm(a) => {
            client.delete(&path(&a.name, ""))?;
            if a.json {
                crate::format::print_json(&serde_json::json!({ "removed": a.name }))?;
            } else {
                outln!("schedule {} removed", a.name)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if json {
        crate::format::print_json(&view)?;
    } else {
        outln!(
            "schedule {} {done}; next run {}",
            view.name,
            when(view.next_run)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// "2026-11-22 23:00 (in 2h 5m)" in local time, or "none".
fn when(at: Option<i64>) -> String {
    let Some(at) = at else {
        return "none".into();
    };
    let local = chrono::DateTime::from_timestamp_millis(at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| at.to_string());
    let left = nightshift_core::timestamp::until(crate::format::now_ms(), at);
    if !left.is_zero() {
        format!(
            "{local} (in {})",
            nightshift_core::duration::format_short(left)
        )
    } else {
        format!("{local} (due)")
    }
}
