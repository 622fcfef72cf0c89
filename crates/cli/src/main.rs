//! `nightshift`: the command line. Every subcommand but `daemon` is a client of the running
//! instance's local API (found through `daemon.json` in the data folder); `daemon` runs the
//! engine and the API headless. Exit codes are part of the interface: see `exit.rs`.

mod args;
mod client;
mod commands;
mod daemon;
mod exit;
mod format;
mod out;
mod when;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        // The reader went away (`nightshift ls | head -1`): it has what it wanted, so stop
        // printing and exit as the command would have. Commands whose code says more than
        // "printed it" (`wait`, `cancel`, ...) do not get here: they keep their own code.
        Err(e) if out::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit::code_for(&e);
            eprintln!("error: {e:#}");
            code
        }
    }
}
