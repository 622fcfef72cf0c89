//! [`Daemon`]: one `nightshift daemon` of one test, in its own temp folder.

use crate::http::{RawResponse, raw_request};
use crate::process::{all_pids, is_live};
use crate::{
    CLI_TIMEOUT, JOB_TIMEOUT, START_TIMEOUT, bin, describe, run_with_timeout, text, wait_for,
    wait_until,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// Where a started daemon said it is.
#[derive(Debug, Clone)]
struct Address {
    url: String,
    port: u16,
    pid: u32,
}

fn read_address(home: &Path) -> Option<Address> {
    let text = fs::read_to_string(home.join("daemon.json")).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    let url = value.get("url")?.as_str()?.to_string();
    let pid = u32::try_from(value.get("pid")?.as_u64()?).ok()?;
    let port = url
        .strip_prefix("http://127.0.0.1:")?
        .trim_end_matches('/')
        .parse()
        .ok()?;
    Some(Address { url, port, pid })
}

/// Options for a [`Daemon`] before it starts.
#[derive(Debug, Default)]
pub struct DaemonBuilder {
    config: Option<String>,
}

impl DaemonBuilder {
    /// Writes `toml` as `home/config.toml` before the first start (keys are documented in
    /// crates/core/src/default-config.toml).
    pub fn config(mut self, toml: &str) -> DaemonBuilder {
        self.config = Some(toml.to_string());
        self
    }

    /// The folders, and the config if any, without starting the daemon.
    pub fn prepare(self) -> Daemon {
        let root = tempfile::Builder::new()
            .prefix("nightshift-e2e-")
            .tempdir()
            .expect("cannot create a temp folder");
        let home = root.path().join("home");
        let scratch = root.path().join("scratch");
        for dir in [&home, &scratch] {
            fs::create_dir_all(dir).expect("cannot create the test folders");
        }
        if let Some(toml) = &self.config {
            fs::write(home.join("config.toml"), toml).expect("cannot write config.toml");
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(180))
            .build();
        Daemon {
            root,
            home,
            scratch,
            child: None,
            address: None,
            token: String::new(),
            agent,
        }
    }

    /// Prepares the folders and starts the daemon.
    pub fn start(self) -> Daemon {
        let mut daemon = self.prepare();
        daemon.launch();
        daemon
    }
}

/// A `nightshift daemon` of this test, in its own temp folder, on a free port.
pub struct Daemon {
    root: tempfile::TempDir,
    home: PathBuf,
    scratch: PathBuf,
    child: Option<Child>,
    address: Option<Address>,
    token: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("home", &self.home)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    pub fn builder() -> DaemonBuilder {
        DaemonBuilder::default()
    }

    /// A daemon with the default config.
    pub fn start() -> Daemon {
        Daemon::builder().start()
    }

    /// A daemon with `toml` as its config file.
    pub fn with_config(toml: &str) -> Daemon {
        Daemon::builder().config(toml).start()
    }

    /// The test's temp folder, holding `home/`, `scratch/` and the daemon's output files.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The file the daemon's stderr goes to (printed when a test fails).
    pub fn stderr_path(&self) -> PathBuf {
        self.root.path().join("daemon.stderr")
    }

    /// Adopts an instance started by other means (the desktop app): if `daemon.json` names a
    /// process (`pid`, when given) and the token file exists, records both and returns the pid.
    /// One look, no waiting: callers poll it with their own deadline.
    pub fn attach(&mut self, pid: Option<u32>) -> Option<u32> {
        let address = read_address(&self.home).filter(|a| pid.is_none_or(|p| p == a.pid))?;
        let token = fs::read_to_string(self.home.join("token")).ok()?;
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        self.token = token.to_string();
        let pid = address.pid;
        self.address = Some(address);
        Some(pid)
    }

    /// `NIGHTSHIFT_HOME` of this daemon.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A folder for the test's own files; also the CLI's (and so the jobs') working directory.
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Replaces the config file (read at the next start).
    pub fn write_config(&self, toml: &str) {
        fs::write(self.home.join("config.toml"), toml).expect("cannot write config.toml");
    }

    fn address(&self) -> &Address {
        self.address
            .as_ref()
            .expect("the daemon has not been started")
    }

    /// `http://127.0.0.1:PORT` of the running (or last) daemon.
    pub fn url(&self) -> &str {
        &self.address().url
    }

    pub fn port(&self) -> u16 {
        self.address().port
    }

    /// The Host header a well-behaved client sends.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    /// Pid of the running (or last) daemon.
    pub fn pid(&self) -> u32 {
        self.address().pid
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The Authorization header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Whether the daemon process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => child.try_wait().expect("cannot poll the daemon").is_none(),
            None => false,
        }
    }

    /// Everything the daemon processes of this test wrote to stderr.
    pub fn daemon_stderr(&self) -> String {
        fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    /// Everything the daemon processes of this test wrote to stdout.
    pub fn daemon_stdout(&self) -> String {
        fs::read_to_string(self.root.path().join("daemon.stdout")).unwrap_or_default()
    }

    /// A `nightshift` command with this daemon's home and the scratch folder as working dir.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("NIGHTSHIFT_HOME", &self.home)
            .env("NIGHTSHIFT_LOG", "warn")
            .current_dir(&self.scratch);
        cmd
    }

    /// Runs the CLI against this home; fails the test if it runs past [`CLI_TIMEOUT`].
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_timeout(args, CLI_TIMEOUT).unwrap_or_else(|out| {
            panic!(
                "nightshift {args:?} still running after {CLI_TIMEOUT:?}:\n{}",
                describe(&out)
            )
        })
    }

    /// Runs the CLI; `Err` if it was still running after `timeout` (it has then been killed).
    pub fn cli_timeout(&self, args: &[&str], timeout: Duration) -> Result<Output, Output> {
        run_with_timeout(self.command(args), timeout)
    }

    /// Runs the CLI, requires exit code 0, and returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "nightshift {args:?} failed: {}",
            describe(&out)
        );
        text(&out.stdout)
    }

    /// `nightshift worker add NAME --queue QUEUE EXTRA… -- nightshift-test-worker`: a pool of
    /// the tests' worker (`tests/src/bin/test_worker.rs`, built beside `nightshift`).
    pub fn add_test_pool(&self, name: &str, queue: &str, extra: &[&str]) {
        let worker = crate::bin().with_file_name("nightshift-test-worker");
        let worker = worker.display().to_string();
        let mut args = vec!["worker", "add", name, "--queue", queue];
        args.extend_from_slice(extra);
        args.extend(["--", worker.as_str()]);
        self.cli_ok(&args);
    }

    /// `nightshift add ARGS`; returns the printed id.
    pub fn add(&self, args: &[&str]) -> i64 {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        let stdout = self.cli_ok(&all);
        stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("`nightshift add` printed {stdout:?}, not a job id"))
    }

    /// A request through ureq with the bearer token; `(status, body)` for every status.
    pub fn http(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let auth = self.bearer();
        self.http_with(method, path, &[("Authorization", &auth)], body)
    }

    /// A request through ureq with exactly these extra headers (no token unless given).
    pub fn http_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> (u16, String) {
        let mut request = self.agent.request(method, &format!("{}{path}", self.url()));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(bytes) => request.send_bytes(bytes),
            None => request.call(),
        };
        match result {
            Ok(response) => {
                let status = response.status();
                (
                    status,
                    response.into_string().expect("cannot read the body"),
                )
            }
            Err(ureq::Error::Status(status, response)) => {
                (status, response.into_string().unwrap_or_default())
            }
            Err(e) => panic!("{method} {path} failed: {e}"),
        }
    }

    /// A request with the token that must succeed (2xx); its body as JSON.
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let (status, text) = self.http(method, path, bytes.as_deref());
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {text}"
        );
        if text.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path} answered non-JSON ({e}): {text}"))
    }

    /// A hand-written HTTP/1.1 request to this daemon: see [`raw_request`].
    pub fn raw_http(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        raw_request(self.port(), method, target, headers, body)
    }

    /// `GET /api/jobs/ID`: `{"job": {...}, "attempts": [...]}`.
    pub fn show(&self, id: i64) -> Value {
        self.api("GET", &format!("/api/jobs/{id}"), None)
    }

    /// A job's state ("queued", "running", "succeeded", "failed", "cancelled").
    pub fn state(&self, id: i64) -> String {
        self.show(id)["job"]["state"]
            .as_str()
            .expect("a job has a state")
            .to_string()
    }

    /// Waits (through `POST /api/jobs/wait`) until every job has finished; returns their
    /// final `show` answers.
    pub fn wait_jobs(&self, ids: &[i64], timeout: Duration) -> Vec<Value> {
        let body = serde_json::json!({
            "ids": ids,
            "timeout_ms": timeout.as_millis() as u64,
        });
        let result = self.api("POST", "/api/jobs/wait", Some(&body));
        let pending = result["pending"].as_array().cloned().unwrap_or_default();
        assert!(
            pending.is_empty(),
            "jobs {pending:?} still not finished after {timeout:?}"
        );
        ids.iter().map(|&id| self.show(id)).collect()
    }

    /// Waits until the job runs with its identity stored; returns its process group id.
    pub fn wait_running(&self, id: i64) -> i32 {
        let mut pgid = None;
        wait_for(JOB_TIMEOUT, &format!("job {id} to be running"), || {
            let detail = self.show(id);
            let attempt = detail["attempts"]
                .as_array()
                .and_then(|a| a.last())
                .cloned()
                .unwrap_or(Value::Null);
            pgid = attempt["pgid"].as_i64();
            detail["job"]["state"] == "running" && attempt["outcome"] == "running" && pgid.is_some()
        });
        pgid.expect("a running attempt has a pgid") as i32
    }

    /// Starts the daemon and waits until `daemon.json` names this very process.
    fn launch(&mut self) {
        assert!(self.child.is_none(), "the daemon is already running");
        let log = |name: &str| {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.root.path().join(name))
                .expect("cannot open the daemon's output file")
        };
        let mut cmd = self.command(&["daemon", "--port", "0"]);
        cmd.stdin(Stdio::null())
            .stdout(log("daemon.stdout"))
            .stderr(log("daemon.stderr"));
        let mut child = cmd.spawn().expect("cannot start nightshift daemon");
        let pid = child.id();
        let mut address = None;
        let mut exited = None;
        let home = &self.home;
        let ready = wait_until(START_TIMEOUT, || {
            exited = child.try_wait().expect("cannot poll the daemon");
            address = read_address(home).filter(|a| a.pid == pid);
            exited.is_some() || address.is_some()
        });
        self.child = Some(child);
        if let Some(status) = exited {
            panic!(
                "nightshift daemon exited while starting ({status}):\n{}",
                self.daemon_stderr()
            );
        }
        assert!(
            ready,
            "nightshift daemon (pid {pid}) did not write daemon.json within {START_TIMEOUT:?}:\n{}",
            self.daemon_stderr()
        );
        self.address = address;
        self.token = fs::read_to_string(self.home.join("token"))
            .expect("the daemon wrote no token file")
            .trim()
            .to_string();
        assert!(!self.token.is_empty(), "the token file is empty");
    }

    /// Kills the daemon with SIGKILL (no chance to clean up) and reaps it. Its jobs live on.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("the daemon is not running");
        child.kill().expect("cannot SIGKILL the daemon");
        child.wait().expect("cannot reap the daemon");
    }

    /// Sends SIGTERM and waits for the daemon to exit; returns how it exited.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the daemon is not running");
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("cannot SIGTERM the daemon");
        let mut status = None;
        let stopped = wait_until(Duration::from_secs(60), || {
            status = child.try_wait().expect("cannot poll the daemon");
            status.is_some()
        });
        if !stopped {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the daemon did not stop within 60s of SIGTERM:\n{}",
                self.daemon_stderr()
            );
        }
        status.expect("the daemon exited")
    }

    /// Starts a daemon again on the same home (stopping the current one with SIGTERM first if
    /// it still runs).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.terminate();
        }
        self.launch();
    }

    /// Live processes of this test's jobs, whichever daemon of this home started them (a
    /// killed one's included): every process whose environment names this home, except the
    /// running daemon itself and this test.
    pub fn job_processes(&self) -> Vec<i32> {
        let daemon = self.child.as_ref().map(|c| c.id() as i32);
        self.tagged_processes()
            .into_iter()
            .filter(|&pid| Some(pid) != daemon)
            .collect()
    }

    /// `NIGHTSHIFT_HOME=<this home>`, the entry every process of this test's daemons carries.
    pub fn home_entry(&self) -> String {
        format!("NIGHTSHIFT_HOME={}", self.home.display())
    }

    /// Pids of live processes (other than this test) whose environment names this home: the
    /// daemon, its jobs and everything they started.
    fn tagged_processes(&self) -> Vec<i32> {
        let mut tag = b"NIGHTSHIFT_HOME=".to_vec();
        tag.extend_from_slice(self.home.as_os_str().as_encoded_bytes());
        let me = std::process::id() as i32;
        all_pids()
            .into_iter()
            .filter(|&pid| pid != me && is_live(pid))
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/environ"))
                    .map(|env| env.split(|b| *b == 0).any(|var| var == tag.as_slice()))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- daemon stderr ({}) ---\n{}",
                self.home.display(),
                self.daemon_stderr()
            );
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Jobs (and what they started) outlive a killed daemon; they carry our unique home in
        // their environment. Repeat until none is left, in case one forked meanwhile.
        wait_until(Duration::from_secs(5), || {
            let left = self.tagged_processes();
            for &pid in &left {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            left.is_empty()
        });
    }
}
