//! `cargo xtask test`: what CI runs, in the order that fails fastest.

use crate::{setup, sh};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    setup::disk_space();
    setup::packages()?;
    setup::nextest()?;
    setup::tauri_driver()?;
    setup::deny()?;
    setup::machete()?;
    sh("cargo", &["fmt", "--all", "--", "--check"])?;
    // The dependency graph (deny.toml): allowed licences, no banned crates, only the default
    // registry. Not advisories: their database is fetched from a git host these machines
    // cannot reach (deny.toml says more).
    sh(
        "cargo",
        &[
            "deny",
            "--locked",
            "check",
            "--hide-inclusion-graph",
            "licenses",
            "bans",
            "sources",
        ],
    )?;
    // Dependencies that no crate uses.
    sh("cargo", &["machete"])?;
    // The desktop crate embeds ui/dist, so the UI is built (and its tests run) first.
    setup::ui(true)?;
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
    // The end-to-end tests drive the real binaries, so build every binary first.
    sh("cargo", &["build", "--workspace", "--bins"])?;
    let mut nextest = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
    nextest.extend(args.iter().map(String::as_str));
    sh("cargo", &nextest)?;
    // Last: the API against its own description, with generated requests. A fixed seed, so a
    // CI run passes or fails on the code alone; `cargo xtask fuzz` alone draws a new one.
    crate::fuzz::run(&["--seed".into(), "20261202".into()])
}
