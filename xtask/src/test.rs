//! `cargo xtask test`: what CI runs, in the order that fails fastest.

use crate::{setup, sh};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    setup::build_tools()?;
    setup::nextest()?;
    sh("cargo", &["fmt", "--all", "--", "--check"])?;
    sh(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The end-to-end tests drive the real `nightshift` binary, so build every binary first.
    sh("cargo", &["build", "--workspace", "--bins"])?;
    let mut nextest = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
    nextest.extend(args.iter().map(String::as_str));
    sh("cargo", &nextest)
}
