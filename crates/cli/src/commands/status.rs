//! `nightshift status`: is it running, and where.

use crate::args::JsonArgs;
use crate::client::Client;
use nightshift_api::Health;
use std::process::ExitCode;

pub fn run(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let health: Health = client.get("/api/health")?;
    if args.json {
        crate::format::print_json(&health)?;
    } else {
        println!(
            "Nightshift {} is running at {} (pid {})",
            health.version,
            client.base(),
            health.pid
        );
        println!("data folder: {}", health.data_dir);
        println!("running jobs: {}", health.running);
    }
    Ok(ExitCode::SUCCESS)
}
