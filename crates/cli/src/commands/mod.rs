//! One module per subcommand.

mod add;
mod ids;
mod incidents;
mod logs;
mod ls;
mod pause;
mod power;
mod queues;
mod report;
mod schedules;
mod show;
mod status;
mod top;
mod wait;
mod workers;

use crate::args::{Cli, Command};
use nightshift_core::JobId;
use std::process::ExitCode;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Add(args) => add::run(*args),
        Command::Ls(args) => ls::run(args),
        Command::Show(args) => show::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Cancel(args) => ids::cancel(args),
        Command::Retry(args) => ids::retry(args),
        Command::Rm(args) => ids::remove(args),
        Command::Wait(args) => wait::run(args),
        Command::Pause(args) => pause::run(args, true),
        Command::Resume(args) => pause::run(args, false),
        Command::Power(args) => power::run(args),
        Command::Queues(args) => queues::run(args),
        Command::Queue(command) => queues::command(command),
        Command::Schedules(args) => schedules::list(args),
        Command::Schedule(command) => schedules::command(command),
        Command::Workers(args) => workers::list(args),
        Command::Worker(command) => workers::command(command),
        Command::Incidents(args) => incidents::run(args),
        Command::Status(args) => status::run(args),
        Command::Top(args) => top::run(args),
        Command::Report(args) => report::run(args),
        Command::Daemon(args) => crate::daemon::run(args).map(|()| ExitCode::SUCCESS),
    }
}

/// Parses a job id argument, with the accepted form in the error.
pub fn parse_id(text: &str) -> anyhow::Result<JobId> {
    text.parse::<JobId>().map_err(anyhow::Error::msg)
}
