//! `nightshift status`: is it running, and where.

use crate::args::StatusArgs;
use crate::client::Client;
use crate::out::outln;
use nightshift_api::Health;
use std::process::ExitCode;

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    if args.url {
        outln!("{}", client.ui_link())?;
        return Ok(ExitCode::SUCCESS);
    }
    let health: Health = client.get("/api/health")?;
    if args.json {
        crate::format::print_json(&health)?;
    } else {
        outln!(
            "Nightshift {} is running at {} (pid {})",
            health.version,
            client.base(),
            health.pid
        )?;
        outln!("data folder: {}", health.data_dir)?;
        outln!(
            "running jobs: {}{}",
            health.running,
            if health.paused { " (paused)" } else { "" }
        )?;
        outln!("web UI: nightshift status --url prints its link")?;
    }
    Ok(ExitCode::SUCCESS)
}
