//! `cargo xtask bench`: builds release binaries and runs the bench program, which prints each
//! figure beside a raw baseline measured in the same run.

use crate::{setup, sh};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    setup::packages()?;
    setup::ui(false)?;
    sh(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "nightshift-cli",
            "-p",
            "nightshift-bench",
            "-p",
            "nightshift-desktop",
        ],
    )?;
    let bench = crate::root().join("target/release/nightshift-bench");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sh(&bench.to_string_lossy(), &args)
}
