//! `nightshift`: the command line. Every subcommand but `daemon` is a client of the running
//! instance's local API (found through `daemon.json` in the data folder); `daemon` runs the
//! engine and the API headless. Exit codes are part of the interface: see `exit.rs`.

mod args;
mod client;
mod commands;
mod daemon;
mod exit;
mod format;
mod when;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = exit::code_for(&e);
            eprintln!("error: {e:#}");
            code
        }
    }
}
