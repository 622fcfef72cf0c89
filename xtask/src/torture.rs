//! `cargo xtask torture [--kills N]`: the end-to-end crash-torture test alone, with N SIGKILLs
//! of the daemon (50 by default; the normal test suite runs it with 5), printing its figures.

use crate::{setup, sh};
use anyhow::{Context, bail};

/// Kills when none are asked for: enough to hit a daemon at many different moments.
const DEFAULT_KILLS: usize = 50;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let kills = match args {
        [] => DEFAULT_KILLS,
        [flag, n] if flag == "--kills" => n
            .parse()
            .with_context(|| format!("--kills wants a number, not '{n}'"))?,
        _ => bail!("usage: cargo xtask torture [--kills N]"),
    };
    setup::nextest()?;
    // The test drives the real binary.
    sh("cargo", &["build", "-p", "nightshift-cli"])?;
    let kills = kills.to_string();
    let status = std::process::Command::new("cargo")
        .args([
            "nextest",
            "run",
            "-p",
            "nightshift-e2e",
            "--no-capture",
            "-E",
            "test(/^torture::/)",
        ])
        .env("NIGHTSHIFT_TORTURE_KILLS", &kills)
        .status()
        .context("cannot run cargo nextest")?;
    if !status.success() {
        bail!("the torture test failed with {kills} kills ({status})");
    }
    Ok(())
}
