//! `nightshift power`: where the machine's power comes from, as the engine sees it.

use crate::args::JsonArgs;
use crate::client::Client;
use crate::out::outln;
use nightshift_api::PowerView;
use std::process::ExitCode;

pub fn run(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let power: PowerView = Client::connect()?.get("/api/power")?;
    if args.json {
        crate::format::print_json(&power)?;
    } else {
        outln!("{} (source: {})", power.description, power.source)?;
        for (queue, why) in &power.holding {
            outln!("holding back queue {queue}: {why}")?;
        }
        if power.jobs_held {
            outln!(
                "holding back jobs with power needs of their own (nightshift ls -s queued says which)"
            )?;
        }
        for (id, why) in &power.paused {
            outln!("job {id} paused: {why}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
