//! `cargo xtask run`: from a fresh machine to a running Nightshift.
//!
//! Installs missing build tools, builds a release binary, copies it next to cargo's own
//! binaries (on PATH for anyone who has cargo) so `nightshift add …` works in any terminal,
//! and starts it. Until the desktop app exists it always starts the headless daemon.

use crate::{setup, sh};
use anyhow::Context;
use std::path::PathBuf;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    setup::build_tools()?;
    sh("cargo", &["build", "--release", "-p", "nightshift-cli"])?;
    let built = crate::root().join("target/release/nightshift");
    let installed = install(&built)?;
    eprintln!("installed {}", installed.display());
    if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        eprintln!("a display is present, but the desktop app is not built yet: starting headless");
    }
    let mut daemon = vec!["daemon"];
    daemon.extend(args.iter().map(String::as_str));
    sh(&installed.to_string_lossy(), &daemon)
}

/// Copies the binary into cargo's bin folder (replacing atomically, so a running copy is not
/// disturbed).
fn install(built: &std::path::Path) -> anyhow::Result<PathBuf> {
    let bin = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home).join("bin"),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cargo/bin")
        }
    };
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    let target = bin.join("nightshift");
    let tmp = bin.join(".nightshift.tmp");
    std::fs::copy(built, &tmp).with_context(|| format!("cannot copy to {}", tmp.display()))?;
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("cannot install {}", target.display()))?;
    Ok(target)
}
