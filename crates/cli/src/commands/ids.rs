//! `cancel`, `retry` and `rm`: one request per id, each reported.

use crate::args::IdsArgs;
use crate::client::Client;
use crate::commands::parse_id;
use crate::out::{self, outln};
use nightshift_api::JobView;
use std::process::ExitCode;

fn each(
    args: IdsArgs,
    act: impl Fn(&Client, nightshift_core::JobId) -> anyhow::Result<Option<JobView>>,
    done: &str,
) -> anyhow::Result<ExitCode> {
    let ids = args
        .ids
        .iter()
        .map(|s| parse_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let client = Client::connect()?;
    let mut failed = None;
    let mut views = Vec::new();
    for id in ids {
        match act(&client, id) {
            Ok(view) => {
                if !args.json {
                    let state = view
                        .as_ref()
                        .map(|v| format!(" ({})", v.job.state))
                        .unwrap_or_default();
                    // A closed stdout stops the report, not the work: every id is still acted on.
                    out::unless_closed(outln!("job {id} {done}{state}"))?;
                }
                views.extend(view);
            }
            Err(e) => {
                eprintln!("error: job {id}: {e:#}");
                failed = Some(crate::exit::code_for(&e));
            }
        }
    }
    if args.json {
        out::unless_closed(crate::format::print_json(&views))?;
    }
    Ok(failed.unwrap_or(ExitCode::SUCCESS))
}

pub fn cancel(args: IdsArgs) -> anyhow::Result<ExitCode> {
    each(
        args,
        |c, id| Ok(Some(c.post_empty(&format!("/api/jobs/{id}/cancel"))?)),
        "cancelled",
    )
}

pub fn retry(args: IdsArgs) -> anyhow::Result<ExitCode> {
    each(
        args,
        |c, id| Ok(Some(c.post_empty(&format!("/api/jobs/{id}/retry"))?)),
        "queued again",
    )
}

pub fn remove(args: IdsArgs) -> anyhow::Result<ExitCode> {
    each(
        args,
        |c, id| {
            c.delete(&format!("/api/jobs/{id}"))?;
            Ok(None)
        },
        "removed",
    )
}
