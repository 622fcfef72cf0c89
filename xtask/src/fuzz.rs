//! `cargo xtask fuzz`: schemathesis against a live daemon, driven by the API's own OpenAPI
//! description (`GET /api/openapi.json`). Every operation gets generated requests, valid and
//! invalid, and every answer is checked against the description: no 5xx, documented statuses
//! and content types, bodies that match their schemas, invalid input refused and valid input
//! accepted. Any failure fails the task.
//!
//! The daemon runs in a fresh data folder and is paused before the fuzzer starts, so none of
//! the jobs it adds ever runs; `POST /api/resume` is left out for that reason, and
//! `GET /api/events` because it never ends. Jobs are also started without a `PATH`, so even a
//! job that did start could not find a program by its bare name.

use crate::setup;
use anyhow::{Context, bail, ensure};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generated requests per operation and phase: enough to find what the checks find, a few
/// minutes on two cores.
const MAX_EXAMPLES: &str = "50";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let schemathesis = setup::schemathesis()?;
    crate::sh("cargo", &["build", "-p", "nightshift-cli"])?;
    let bin = setup::target_dir().join("debug/nightshift");
    let folder = Folder::new()?;
    let mut daemon = Daemon::start(&bin, &folder.path)?;
    let result = fuzz(&schemathesis, &bin, &folder.path, &daemon, args);
    let stopped = daemon.stop();
    result?;
    stopped
}

fn fuzz(
    schemathesis: &Path,
    bin: &Path,
    folder: &Path,
    daemon: &Daemon,
    args: &[String],
) -> anyhow::Result<()> {
    let home = folder.join("home");
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(bin)
            .args(args)
            .env("NIGHTSHIFT_HOME", &home)
            .output()
            .with_context(|| format!("cannot run nightshift {}", args.join(" ")))?;
        ensure!(
            out.status.success(),
            "nightshift {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // Paused first: nothing the fuzzer adds may run.
    cli(&["pause"])?;
    let hooks = crate::root().join("xtask/fuzz");
    let schema = format!("{}/api/openapi.json", daemon.url);
    let auth = format!("Authorization: Bearer {}", daemon.token);
    let mut command = Command::new(schemathesis);
    command
        .args(["run", &schema, "--header", &auth, "--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args([
            "--exclude-path",
            "/api/events",
            "--exclude-path",
            "/api/resume",
        ])
        .args(["--request-timeout", "30", "--workers", "1"])
        // NUL bytes are refused in every string the server takes, which the description says
        // in words only (see crates/api/src/schema.rs).
        .args(["--generation-allow-x00", "false"])
        .args(["--generation-database", "none"])
        .arg("--report-dir")
        .arg(folder.join("report"))
        .args(args)
        // Whatever it keeps between runs stays in the throwaway folder.
        .current_dir(folder)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &hooks)
        // No colours into a CI log, and no prompt to send the report anywhere.
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false");
    eprintln!("$ schemathesis run {schema} --checks all --max-examples {MAX_EXAMPLES} ...");
    let status = command.status().context("cannot run schemathesis")?;
    // The daemon must have lived through it, and no job may have run.
    daemon.ensure_alive()?;
    for state in ["running", "succeeded", "failed"] {
        let page: serde_json::Value =
            serde_json::from_str(&cli(&["ls", "--json", "--state", state])?)
                .context("nightshift ls --json printed no JSON")?;
        let ran = page["jobs"].as_array().map_or(0, Vec::len);
        ensure!(
            ran == 0,
            "{ran} fuzzed job(s) are {state}: the daemon was to stay paused"
        );
    }
    if !status.success() {
        bail!("schemathesis found failures ({status}); each is printed above with a curl line");
    }
    Ok(())
}

/// A fresh data folder under the system's temp folder, removed when dropped.
struct Folder {
    path: PathBuf,
}

impl Folder {
    fn new() -> anyhow::Result<Folder> {
        let path = std::env::temp_dir().join(format!("nightshift-fuzz-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot clear {}", path.display()))?;
        }
        for dir in ["home", "no-programs"] {
            std::fs::create_dir_all(path.join(dir))
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        Ok(Folder { path })
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The daemon under test.
struct Daemon {
    child: Child,
    url: String,
    token: String,
    stderr: PathBuf,
}

impl Daemon {
    fn start(bin: &Path, folder: &Path) -> anyhow::Result<Daemon> {
        let home = folder.join("home");
        let stderr = folder.join("daemon.stderr");
        let mut child = Command::new(bin)
            .args(["daemon", "--port", "0"])
            .env("NIGHTSHIFT_HOME", &home)
            .env("NIGHTSHIFT_LOG", "warn")
            .env("PATH", folder.join("no-programs"))
            .current_dir(folder)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr)?)
            .spawn()
            .context("cannot start nightshift daemon")?;
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(60);
        // Polled with a deadline: the daemon writes daemon.json once it listens.
        let url = loop {
            if let Some(url) = address(&home, pid) {
                break url;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "nightshift daemon exited while starting ({status}):\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("nightshift daemon wrote no daemon.json within a minute");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let token = std::fs::read_to_string(home.join("token"))
            .context("the daemon wrote no token file")?
            .trim()
            .to_string();
        eprintln!("nightshift daemon {pid} at {url}");
        Ok(Daemon {
            child,
            url,
            token,
            stderr,
        })
    }

    fn ensure_alive(&self) -> anyhow::Result<()> {
        let alive = Path::new(&format!("/proc/{}", self.child.id())).exists()
            && std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
                .is_ok_and(|stat| !stat.contains(") Z "));
        ensure!(
            alive,
            "the daemon died during the fuzz run:\n{}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
        Ok(())
    }

    /// SIGTERM, then up to a minute for a clean stop (SIGKILL after that).
    fn stop(&mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        crate::sh("kill", &["-TERM", &pid])?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                ensure!(status.success(), "the daemon stopped with {status}");
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("the daemon did not stop within a minute of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Only if `stop` did not reap it (an early error).
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The url in `daemon.json`, once it names the process `pid`.
fn address(home: &Path, pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(home.join("daemon.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    (value["pid"].as_u64()? == u64::from(pid)).then(|| value["url"].as_str().map(String::from))?
}
