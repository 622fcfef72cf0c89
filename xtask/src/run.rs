//! `cargo xtask run`: from a fresh machine to a running Nightshift.
//!
//! Installs what is missing, builds release binaries, copies them next to cargo's own binaries
//! (on PATH for anyone who has cargo) so `nightshift add …` works in any terminal, and starts
//! Nightshift: the tray app when there is a display, the headless daemon otherwise.

use crate::{setup, sh};
use anyhow::Context;
use std::path::PathBuf;

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    setup::packages()?;
    setup::ui(false)?;
    let desktop = has_display();
    let mut build = vec!["build", "--release", "-p", "nightshift-cli"];
    if desktop {
        build.extend(["-p", "nightshift-desktop"]);
    }
    sh("cargo", &build)?;
    let cli = install("nightshift")?;
    eprintln!("installed {}", cli.display());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if desktop {
        let app = install("nightshift-desktop")?;
        eprintln!(
            "installed {}; starting the tray app (its window opens now)",
            app.display()
        );
        let mut open = vec!["--open"];
        open.extend(args);
        sh(&app.to_string_lossy(), &open)
    } else {
        eprintln!("no display: starting the headless daemon");
        let mut daemon = vec!["daemon"];
        daemon.extend(args);
        sh(&cli.to_string_lossy(), &daemon)
    }
}

/// Copies a release binary into cargo's bin folder (replacing atomically, so a running copy
/// is not disturbed).
fn install(name: &str) -> anyhow::Result<PathBuf> {
    let built = crate::root().join("target/release").join(name);
    let bin = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home).join("bin"),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cargo/bin")
        }
    };
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    let target = bin.join(name);
    let tmp = bin.join(format!(".{name}.tmp"));
    std::fs::copy(&built, &tmp)
        .with_context(|| format!("cannot copy {} to {}", built.display(), tmp.display()))?;
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("cannot install {}", target.display()))?;
    Ok(target)
}
