//! The same trivial jobs through pueue, for scale, when it is installed (`cargo install pueue
//! --locked` puts `pueued` and `pueue` in cargo's bin folder).
//!
//! pueued runs as a child of the bench with a fresh temporary home, so it reads no config and
//! touches no state of the user's (pueue keeps its config, state and socket under the home's
//! XDG folders). Its default group gets `parallel 4` and is paused; the tasks are added with
//! `pueue add` (not timed: pueue has no batch add, and each add is a process of its own); then
//! the group is started and timed until `pueue status --json` shows every task done, read every
//! [`POLL`]. Each task must have succeeded.

use crate::child::Reaped;
use crate::throughput::CONCURRENCY;
use anyhow::{Context, bail, ensure};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often pueue's status is read while its tasks run. pueue's own loop starts tasks a few
/// times a second, so this costs the figure little precision.
const POLL: Duration = Duration::from_millis(250);
/// How long pueued may take to answer its first request.
const START_LIMIT: Duration = Duration::from_secs(20);
/// Threads running `pueue add` at once.
const ADDERS: usize = 4;
/// How long pueue may take per task before the run counts as broken: its daemon starts tasks
/// from a loop that runs a few times a second, and each status change writes its whole state,
/// so it runs trivial tasks at about 10 a second, slower as the list grows.
const PER_TASK: Duration = Duration::from_millis(400);

/// How long pueue took to run `jobs` tasks of `/bin/true`; `None` if it is not installed.
pub fn run(jobs: usize) -> anyhow::Result<Option<Duration>> {
    let (Some(daemon), Some(client)) = (find("pueued"), find("pueue")) else {
        return Ok(None);
    };
    let home = tempfile::Builder::new()
        .prefix("nightshift-bench-pueue-")
        .tempdir()
        .context("cannot create a home for pueue")?;
    let pueue = Pueue {
        client,
        home: home.path().to_path_buf(),
    };
    let log = std::fs::File::create(home.path().join("pueued.log"))?;
    let mut pueued = Reaped(
        pueue
            .command(&daemon)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", daemon.display()))?,
    );
    let deadline = Instant::now() + START_LIMIT;
    while pueue.call(&["status"]).is_err() {
        if let Some(status) = pueued.exited()? {
            bail!("pueued exited ({status}) before it answered");
        }
        ensure!(
            Instant::now() < deadline,
            "pueued did not answer within {START_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    pueue.call(&["parallel", &CONCURRENCY.to_string()])?;
    pueue.call(&["pause"])?;
    crate::harness::shared_out(jobs, ADDERS, "pueue add", || {
        pueue.call(&["add", "--", "/bin/true"]).map(drop)
    })?;
    let t0 = Instant::now();
    pueue.call(&["start"])?;
    let within = Duration::from_secs(60) + PER_TASK.saturating_mul(jobs as u32);
    let deadline = t0 + within;
    loop {
        let (done, failed) = pueue.done()?;
        ensure!(
            failed == 0,
            "{failed} pueue tasks of /bin/true did not succeed"
        );
        if done >= jobs {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "pueue had run {done} of {jobs} tasks after {within:?}"
        );
        std::thread::sleep(POLL);
    }
    let elapsed = t0.elapsed();
    pueued
        .terminate(Duration::from_secs(10))
        .context("cannot stop pueued")?;
    Ok(Some(elapsed))
}

/// The pueue client, pointed at the daemon started here.
struct Pueue {
    client: PathBuf,
    home: PathBuf,
}

impl Pueue {
    /// `program` with the environment that keeps pueue inside the temporary home.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("PUEUE_CONFIG_PATH");
        command
    }

    /// Runs `pueue ARGS`; its output, if it succeeded.
    fn call(&self, args: &[&str]) -> anyhow::Result<Vec<u8>> {
        let output = self
            .command(&self.client)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("cannot run pueue")?;
        ensure!(
            output.status.success(),
            "pueue {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(output.stdout)
    }

    /// How many tasks are done, and how many of those did not succeed.
    fn done(&self) -> anyhow::Result<(usize, usize)> {
        let status: serde_json::Value = serde_json::from_slice(&self.call(&["status", "--json"])?)
            .context("pueue status --json is not JSON")?;
        let tasks = status["tasks"]
            .as_object()
            .context("pueue status --json has no tasks")?;
        let mut done = 0;
        let mut failed = 0;
        for task in tasks.values() {
            // {"Done": {"result": "Success", ...}} (pueue 4), or {"Done": "Success"} (pueue 3).
            if let Some(end) = task["status"].get("Done") {
                done += 1;
                let result = end.get("result").unwrap_or(end);
                if result != "Success" {
                    failed += 1;
                }
            }
        }
        Ok((done, failed))
    }
}

/// `name` on the PATH, or in cargo's bin folder (where `cargo install` puts it).
fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    std::env::split_paths(&path)
        .chain(cargo_home.map(|home| home.join("bin")))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
