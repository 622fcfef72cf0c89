//! Installing what a fresh Debian machine lacks: only what is missing, and only through the
//! system's package manager, npm or cargo.

use crate::{sh, works};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages to build and test everything, the desktop app included.
const PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    // The desktop app (Tauri 2 on WebKitGTK, tray through libayatana-appindicator).
    "libwebkit2gtk-4.1-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libsoup-3.0-dev",
    "libgtk-3-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libdbus-1-dev",
    // Its tests: a virtual display, a session bus, WebDriver for WebKitGTK.
    "xvfb",
    "xauth",
    "x11-utils",
    "dbus",
    "dbus-x11",
    "webkit2gtk-driver",
    // The end-to-end tests check the database from outside (`PRAGMA integrity_check`) with
    // SQLite's own shell, so no test crate talks SQL itself (invariant 1).
    "sqlite3",
    // The metrics tests: `promtool check metrics` on what `/metrics` serves.
    "prometheus",
    // The admin UI in a real browser (driven by playwright-core from ui/node_modules).
    "chromium",
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_debian() -> bool {
    works("sh", &["-c", "command -v dpkg-query"])
}

/// Installs the missing Debian packages with apt-get (as root, or through sudo).
pub fn packages() -> anyhow::Result<()> {
    if !is_debian() {
        eprintln!(
            "not a Debian-like system: make sure these are installed: {}",
            PACKAGES.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    apt(&missing)
}

pub fn apt(packages: &[&str]) -> anyhow::Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let root = works("sh", &["-c", "[ \"$(id -u)\" = 0 ]"]);
    // Through `env`, so apt-get never stops to ask a question on a fresh machine.
    let base = ["DEBIAN_FRONTEND=noninteractive", "apt-get"];
    let (program, prefix): (&str, Vec<&str>) = if root {
        ("env", base.to_vec())
    } else {
        ("sudo", base.to_vec())
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

/// Installs cargo-deny (licences, bans and sources of the dependencies) if it is missing.
pub fn deny() -> anyhow::Result<()> {
    if works("cargo", &["deny", "--version"]) {
        return Ok(());
    }
    sh("cargo", &["install", "cargo-deny", "--locked"])
}

/// Installs cargo-machete (dependencies no crate uses) if it is missing.
pub fn machete() -> anyhow::Result<()> {
    if works("cargo", &["machete", "--version"]) {
        return Ok(());
    }
    sh("cargo", &["install", "cargo-machete", "--locked"])
}

/// The schemathesis release `cargo xtask fuzz` runs: pinned, so a new release's new checks
/// arrive by a change here, not in the middle of a CI run.
pub const SCHEMATHESIS: &str = "4.32.5";

/// Where cargo builds: `CARGO_TARGET_DIR`, or target/ in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// Installs schemathesis (pinned) with pip into a virtual environment under the target
/// folder, unless that version is there already; returns its program. Python and its `venv`
/// module come from the system's packages when missing.
pub fn schemathesis() -> anyhow::Result<PathBuf> {
    let venv = target_dir().join("schemathesis-venv");
    let program = venv.join("bin/schemathesis");
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args(["-m", "pip", "show", "schemathesis"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == format!("Version: {SCHEMATHESIS}"))
        });
    if installed && program.exists() {
        return Ok(program);
    }
    let venv_text = venv.to_string_lossy().into_owned();
    if !python.exists() {
        // Debian splits venv's pip bootstrap (ensurepip) into python3-venv.
        if !works("python3", &["-c", "import ensurepip, venv"]) && is_debian() {
            apt(&["python3", "python3-venv"])?;
        }
        sh("python3", &["-m", "venv", &venv_text])?;
    }
    sh(
        &python.to_string_lossy(),
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={SCHEMATHESIS}"),
        ],
    )?;
    Ok(program)
}

/// Installs tauri-driver (WebDriver for Tauri apps) if it is missing.
pub fn tauri_driver() -> anyhow::Result<()> {
    if works("tauri-driver", &["--help"]) {
        return Ok(());
    }
    sh(
        "cargo",
        &["install", "tauri-driver", "--locked", "--version", "^2"],
    )
}

/// Builds the web UI into ui/dist (the desktop app embeds it; the server serves it) and runs
/// its unit tests when `test` is set.
pub fn ui(test: bool) -> anyhow::Result<()> {
    let ui = crate::root().join("ui");
    let npm = |args: &[&str]| -> anyhow::Result<()> {
        eprintln!("$ (cd ui && npm {})", args.join(" "));
        let status = Command::new("npm").args(args).current_dir(&ui).status()?;
        anyhow::ensure!(
            status.success(),
            "`npm {}` failed in ui/ ({status})",
            args.join(" ")
        );
        Ok(())
    };
    if !fresh(
        &ui.join("node_modules/.package-lock.json"),
        &ui.join("package-lock.json"),
    ) {
        npm(&["ci", "--no-audit", "--no-fund"])?;
    }
    npm(&["run", "build"])?;
    if test {
        npm(&["test"])?;
    }
    Ok(())
}

/// Whether `made` exists and is newer than `source`.
fn fresh(made: &Path, source: &Path) -> bool {
    let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((time(made), time(source)), (Some(m), Some(s)) if m >= s)
}

/// What a from-scratch `cargo xtask test` leaves in target/ (measured: 3.5 GB), with room
/// for the linker's temporary files.
const DISK_NEEDED_GB: u64 = 6;

/// Warns when the disk that holds target/ is nearly full. A linker that runs out of space
/// dies with a bus error that says nothing about disk, so this names the cause up front.
/// A warning, not an error: a warm target/ needs far less.
pub fn disk_space() {
    let Ok(out) = Command::new("df").args(["-Pk", "."]).output() else {
        return;
    };
    if let Some(free_kb) = available_kb(&String::from_utf8_lossy(&out.stdout)) {
        let free_gb = free_kb / 1_000_000;
        if free_gb < DISK_NEEDED_GB {
            eprintln!(
                "warning: {free_gb} GB free on the disk that holds target/; a build from \
                 scratch needs about {DISK_NEEDED_GB} GB (`cargo clean` frees old builds)"
            );
        }
    }
}

/// The available space in `df -Pk` output: a header line, then "filesystem blocks used
/// available capacity mount" (POSIX format, 1024-byte blocks).
fn available_kb(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::available_kb;

    #[test]
    fn reads_the_available_column_of_posix_df_output() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/sda1        263174212 91234567   4718592      96% /\n";
        assert_eq!(available_kb(df), Some(4_718_592));
        assert_eq!(
            available_kb("Filesystem 1024-blocks Used Available\n"),
            None
        );
        assert_eq!(available_kb(""), None);
    }
}
