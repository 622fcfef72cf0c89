//! `nightshift queue ls|create|set|pause|resume` (and `queues`): limits, holds and counts.

use crate::args::{JsonArgs, QueueCommand};
use crate::client::{Client, encode};
use crate::format::table;
use crate::out::outln;
use nightshift_api::{QueueUpdate, QueueView};
use nightshift_core::JobState;
use std::process::ExitCode;

pub fn run(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let queues: Vec<QueueView> = Client::connect()?.get("/api/queues")?;
    if args.json {
        crate::format::print_json(&queues)?;
        return Ok(ExitCode::SUCCESS);
    }
    if queues.is_empty() {
        outln!("no queues yet: `nightshift add` creates one on first use")?;
        return Ok(ExitCode::SUCCESS);
    }
    let count = |q: &QueueView, s: JobState| q.counts.get(&s).copied().unwrap_or(0).to_string();
    let rows: Vec<Vec<String>> = queues
        .iter()
        .map(|q| {
            vec![
                q.name.clone(),
                if q.limit_source == "set" {
                    format!("{} (set)", q.concurrency)
                } else {
                    q.concurrency.to_string()
                },
                if q.paused {
                    "paused".into()
                } else {
                    "-".into()
                },
                count(q, JobState::Running),
                count(q, JobState::Queued),
                count(q, JobState::Succeeded),
                count(q, JobState::Failed),
                count(q, JobState::Cancelled),
            ]
        })
        .collect();
    table(
        &[
            "QUEUE",
            "LIMIT",
            "HELD",
            "RUNNING",
            "QUEUED",
            "SUCCEEDED",
            "FAILED",
            "CANCELLED",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn command(command: QueueCommand) -> anyhow::Result<ExitCode> {
    let (name, update, json, done) = match command {
        QueueCommand::Ls(args) => return run(args),
        QueueCommand::Create(a) | QueueCommand::Set(a) => {
            let require_ac = match (a.require_ac, a.no_require_ac) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let millis = |d: Option<std::time::Duration>| {
                d.map(|d| nightshift_api::DurationValue::Millis(d.as_millis() as u64))
            };
            let update = QueueUpdate {
                concurrency: a.concurrency,
                reset_concurrency: a.reset,
                paused: None,
                require_ac,
                min_battery: a.min_battery,
                on_power_loss: a.on_power_loss,
                battery_concurrency: a.battery_concurrency,
                timeout: millis(a.timeout),
                max_attempts: a.attempts,
                retry_backoff: millis(a.retry_backoff),
                reset: a.unset,
            };
            (a.name, update, a.json, "updated")
        }
        QueueCommand::Pause(a) => (
            a.name,
            QueueUpdate {
                paused: Some(true),
                ..Default::default()
            },
            a.json,
            "paused",
        ),
        QueueCommand::Resume(a) => (
            a.name,
            QueueUpdate {
                paused: Some(false),
                ..Default::default()
            },
            a.json,
            "resumed",
        ),
    };
    let queue: QueueView =
        Client::connect()?.post(&format!("/api/queues/{}", encode(&name)), &update)?;
    if json {
        crate::format::print_json(&queue)?;
    } else {
        let mut held = String::new();
        if queue.paused {
            held.push_str(", paused");
        }
        if queue.require_ac {
            held.push_str(", AC only");
        }
        if let Some(min) = queue.min_battery {
            held.push_str(&format!(", battery at least {min}%"));
        }
        if queue.on_power_loss != nightshift_core::OnPowerLoss::Finish {
            held.push_str(&format!(", {} on power loss", queue.on_power_loss));
        }
        if let Some(n) = queue.battery_concurrency {
            held.push_str(&format!(", {n} on battery"));
        }
        if let Some(ms) = queue.timeout_ms {
            held.push_str(&format!(
                ", timeout {}",
                nightshift_core::duration::format_short(std::time::Duration::from_millis(ms))
            ));
        }
        if let Some(n) = queue.max_attempts {
            held.push_str(&format!(", {n} attempts"));
        }
        outln!(
            "queue {} {done}: concurrency {}{held}",
            queue.name,
            queue.concurrency
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
