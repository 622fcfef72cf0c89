//! `nightshift queues`: limits and counts per queue.

use crate::args::JsonArgs;
use crate::client::Client;
use crate::format::table;
use nightshift_api::QueueView;
use nightshift_core::JobState;
use std::process::ExitCode;

pub fn run(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let queues: Vec<QueueView> = Client::connect()?.get("/api/queues")?;
    if args.json {
        crate::format::print_json(&queues)?;
        return Ok(ExitCode::SUCCESS);
    }
    if queues.is_empty() {
        println!("no queues yet: `nightshift add` creates one on first use");
        return Ok(ExitCode::SUCCESS);
    }
    let count = |q: &QueueView, s: JobState| q.counts.get(&s).copied().unwrap_or(0).to_string();
    let rows: Vec<Vec<String>> = queues
        .iter()
        .map(|q| {
            vec![
                q.name.clone(),
                q.concurrency.to_string(),
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
            "RUNNING",
            "QUEUED",
            "SUCCEEDED",
            "FAILED",
            "CANCELLED",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
