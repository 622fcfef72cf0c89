//! Installing what a fresh Debian machine lacks: only what is missing, and only through the
//! system's package manager or cargo.

use crate::{sh, works};

/// Debian packages needed to build the headless engine (rusqlite builds SQLite from source).
const BUILD_PACKAGES: &[(&str, &str)] = &[("cc", "gcc"), ("pkg-config", "pkg-config")];

/// Installs missing build tools with apt-get, when running as root on a Debian-like system.
pub fn build_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> = BUILD_PACKAGES
        .iter()
        .filter(|(cmd, _)| !works("sh", &["-c", &format!("command -v {cmd}")]))
        .map(|(_, pkg)| *pkg)
        .collect();
    apt(&missing)
}

pub fn apt(packages: &[&str]) -> anyhow::Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if !works("sh", &["-c", "command -v apt-get"]) {
        anyhow::bail!("please install: {} (no apt-get here)", packages.join(" "));
    }
    let root = works("sh", &["-c", "[ \"$(id -u)\" = 0 ]"]);
    let (program, prefix): (&str, Vec<&str>) = if root {
        ("apt-get", vec![])
    } else {
        ("sudo", vec!["apt-get"])
    };
    let run = |args: &[&str]| {
        let mut all = prefix.clone();
        all.extend_from_slice(args);
        sh(program, &all)
    };
    run(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    run(&install)
}

/// Installs cargo-nextest if `cargo nextest` is not available.
pub fn nextest() -> anyhow::Result<()> {
    if works("cargo", &["nextest", "--version"]) {
        return Ok(());
    }
    sh("cargo", &["install", "cargo-nextest", "--locked"])
}
