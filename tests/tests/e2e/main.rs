//! End-to-end tests of the real `nightshift` binary: one module per area. Every test has its
//! own temp folder and its own daemon on a free port, so they run in parallel.

mod api_security;
mod browser;
mod cli;
mod console;
mod crash;
mod data_folder;
mod desktop;
mod disk_full;
mod escapes;
mod incidents;
mod input;
mod instance;
mod logs;
mod metrics;
mod monitoring;
mod openapi;
mod payload;
mod power;
mod process_groups;
mod queues;
mod recurring;
mod report;
mod scheduling;
mod server_limits;
mod torture;
mod workers;

use nightshift_e2e::Daemon;
use serde_json::Value;

/// Config that keeps stop paths fast: one second between SIGTERM and SIGKILL.
pub const FAST_GRACE: &str = "[jobs]\nkill_grace = \"1s\"\n";

/// A shell script run as `sh -c SCRIPT sh ARG...`: arguments arrive as $1.., so paths need no
/// quoting inside the script.
pub fn sh<'a>(script: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--", "sh", "-c", script, "sh"];
    v.extend_from_slice(args);
    v
}

/// Job ids in an answer of `ls --json`.
pub fn listed_ids(page: &Value) -> Vec<i64> {
    page["jobs"]
        .as_array()
        .expect("ls --json has a jobs array")
        .iter()
        .map(|j| j["id"].as_i64().expect("a job has an id"))
        .collect()
}

/// `nightshift ls --json ARGS` as JSON.
pub fn ls_json(d: &Daemon, args: &[&str]) -> Value {
    let mut all = vec!["ls", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&d.cli_ok(&all)).expect("ls --json prints JSON")
}

/// `nightshift show ID --json` as JSON: `{"job": {...}, "attempts": [...]}`.
pub fn show_json(d: &Daemon, id: i64) -> Value {
    serde_json::from_str(&d.cli_ok(&["show", &id.to_string(), "--json"]))
        .expect("show --json prints JSON")
}

/// Outcomes of a job's attempts, in order.
pub fn outcomes(detail: &Value) -> Vec<String> {
    detail["attempts"]
        .as_array()
        .expect("show has an attempts array")
        .iter()
        .map(|a| a["outcome"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Asserts an error body is JSON `{code, message}` with this code; returns the message.
pub fn error_body(status: u16, body: &str, code: &str) -> String {
    let value: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("HTTP {status} error body is not JSON ({e}): {body:?}"));
    assert_eq!(value["code"], code, "HTTP {status} body: {body}");
    let message = value["message"]
        .as_str()
        .unwrap_or_else(|| panic!("HTTP {status} error has no message: {body}"));
    assert!(!message.is_empty(), "HTTP {status} empty message: {body}");
    message.to_string()
}

/// A named pipe a job blocks on (`read x < "$1"`) until the test opens it: a gate with no
/// polling on either side.
#[derive(Debug)]
pub struct Gate {
    path: std::path::PathBuf,
}

impl Gate {
    pub fn new(dir: &std::path::Path, name: &str) -> Gate {
        let path = dir.join(name);
        let out = std::process::Command::new("mkfifo")
            .arg(&path)
            .output()
            .expect("cannot run mkfifo");
        assert!(out.status.success(), "mkfifo failed: {out:?}");
        Gate { path }
    }

    pub fn path(&self) -> &str {
        self.path.to_str().expect("a UTF-8 path")
    }

    /// Lets the job that reads the gate go on. Waits (with a deadline) until a reader is there:
    /// a non-blocking open for writing fails until then, so this never hangs.
    pub fn open(&self) {
        self.open_with("go\n");
    }

    /// As `open`, handing the job `line` to read.
    pub fn open_with(&self, line: &str) {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = None;
        nightshift_e2e::wait_for(
            nightshift_e2e::JOB_TIMEOUT,
            &format!("a job to read {}", self.path.display()),
            || {
                file = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(nix::libc::O_NONBLOCK)
                    .open(&self.path)
                    .ok();
                file.is_some()
            },
        );
        file.expect("opened")
            .write_all(line.as_bytes())
            .expect("cannot write to the gate");
    }
}
