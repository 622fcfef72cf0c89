//! `cargo xtask`: the project's automation as a plain Rust program (rust-analyzer's
//! convention), so it runs the same on every machine with cargo and nothing else.
//!
//! - `run`: installs what is missing, builds, puts `nightshift` on PATH, starts Nightshift.
//! - `test`: exactly what CI runs: format check, clippy with warnings denied, every test
//!   (unit, integration, end-to-end, tidy).
//! - `bench`: the performance figures, each beside a raw baseline measured in the same run.
//! - `torture`: the end-to-end crash-torture test with many SIGKILLs of the daemon.
//! - `fuzz`: schemathesis against a live daemon, from the API's OpenAPI description (also the
//!   last step of `test`).

mod bench;
mod fuzz;
mod run;
mod setup;
mod test;
#[cfg(test)]
mod tidy;
mod torture;

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let root = root();
    std::env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    match task.as_str() {
        "run" => run::run(&rest),
        "test" => test::run(&rest),
        "bench" => bench::run(&rest),
        "torture" => torture::run(&rest),
        "fuzz" => fuzz::run(&rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 run     install what is missing, build, and start Nightshift\n  \
                 test    what CI runs: fmt check, clippy -D warnings, all tests\n  \
                 bench   performance figures beside raw baselines (--quick for a short run)\n  \
                 torture the crash-torture test: SIGKILLs of the daemon while jobs run \
                 (--kills N, default 50)\n  \
                 fuzz    schemathesis against a live daemon, from its OpenAPI description"
            );
            if task.is_empty() {
                Ok(())
            } else {
                bail!("unknown task '{task}'")
            }
        }
    }
}

/// The workspace root (the parent of this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// A command with the environment of the shell that ran `cargo xtask`, not of the xtask's own
/// `cargo run`: the variables cargo sets for the program it runs (`CARGO_PKG_NAME` and the like)
/// are left out, since some tools change course on them (cargo-machete reads a set
/// `CARGO_PKG_NAME` as "run from its own source" and takes its subcommand name for a path).
fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            )
        {
            cmd.env_remove(&*name);
        }
    }
    cmd
}

/// Runs a command, echoing it first, failing with its status.
fn sh(program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = command(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Whether a command runs at all (for "is this tool installed?").
fn works(program: &str, args: &[&str]) -> bool {
    command(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
