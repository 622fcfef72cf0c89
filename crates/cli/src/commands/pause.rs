//! `nightshift pause` and `resume`: hold or release every queue.

use crate::args::JsonArgs;
use crate::client::Client;
use crate::out::outln;
use nightshift_api::Summary;
use nightshift_core::JobState;
use std::process::ExitCode;

pub fn run(args: JsonArgs, pause: bool) -> anyhow::Result<ExitCode> {
    let path = if pause { "/api/pause" } else { "/api/resume" };
    let summary: Summary = Client::connect()?.post_empty(path)?;
    if args.json {
        crate::format::print_json(&summary)?;
    } else {
        let queued = summary.counts.get(&JobState::Queued).copied().unwrap_or(0);
        if pause {
            outln!(
                "paused: nothing new starts ({queued} queued, {} still running)",
                summary.running
            )?;
        } else {
            outln!("resumed: {queued} queued job(s) may start")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
