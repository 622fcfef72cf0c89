//! Starting an attempt (a new process group, output into the job's log) or a worker (the same,
//! talking over its standard input and output).

use crate::capture::{Capture, LogSwitch};
use crate::identity::Identity;
use crate::logfile::LogWriter;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};

/// What to start.
#[derive(Debug)]
pub struct SpawnRequest {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    /// Where stdout and stderr go.
    pub log: LogWriter,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
    pub fn code(self) -> Option<i32> {
        match self {
            Exit::Code(c) => Some(c),
            Exit::Signal(_) => None,
        }
    }
    pub fn signal(self) -> Option<i32> {
        match self {
            Exit::Signal(s) => Some(s),
            Exit::Code(_) => None,
        }
    }
    pub(crate) fn from_status(status: std::process::ExitStatus) -> Exit {
        match status.code() {
            Some(code) => Exit::Code(code),
            None => Exit::Signal(status.signal().unwrap_or(0)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot create the output pipe: {0}")]
    Pipe(std::io::Error),
    #[error("cannot start '{program}'{}: {error}", cwd.as_ref().map(|c| format!(" in {}", c.display())).unwrap_or_default())]
    Start {
        program: String,
        cwd: Option<PathBuf>,
        error: std::io::Error,
    },
    /// Cannot happen with a freshly spawned child; refused rather than guessed, because a
    /// wrong process group id could make us signal our own group.
    #[error("started '{program}' but could not get its process id")]
    NoPid { program: String },
}

/// A started attempt: the leader of its own process group.
#[derive(Debug)]
pub struct Running {
    pub child: Child,
    pub identity: Identity,
    capture: Option<Capture>,
    /// Keeps the orphan reaper off the leader, which tokio reaps (see `children`).
    _own: crate::children::OwnChild,
}

impl Running {
    /// The process group id, which is the leader's pid.
    pub fn pgid(&self) -> i32 {
        self.identity.pid
    }

    /// Waits for the leader to exit (and reaps it).
    pub async fn wait(&mut self) -> std::io::Result<Exit> {
        self.child.wait().await.map(Exit::from_status)
    }

    /// Waits for the output to be fully written, once the group has ended. A process that
    /// escaped the group (setsid, a daemon) can hold the pipe open forever, so after `limit`
    /// this stops reading it; from then on that process's writes fail (EPIPE, or SIGPIPE) and
    /// nothing of the attempt is left running in Nightshift. Dropping a `Running` without
    /// calling this also stops reading, possibly before the last output is in.
    pub async fn finish_output(&mut self, limit: std::time::Duration) {
        if let Some(capture) = self.capture.take() {
            capture.finish(limit, self.identity.pid, false).await;
        }
    }

    /// Reads what the output pipe holds now, then stops reading it, without waiting for the
    /// end of the output: for an attempt whose processes that left the group are meant to live
    /// on (the job asked for it), and may hold the pipe for as long as they run. `limit`
    /// bounds the wait for a slow log writer, as in [`finish_output`](Self::finish_output).
    pub async fn finish_output_now(&mut self, limit: std::time::Duration) {
        if let Some(capture) = self.capture.take() {
            capture.finish(limit, self.identity.pid, true).await;
        }
    }
}

/// Starts `req` as a new process group leader with stdin closed and stdout and stderr both in
/// one pipe (so their order is kept), copied into the log. Needs a Tokio runtime.
pub fn spawn(req: SpawnRequest) -> Result<Running, SpawnError> {
    let (reader, writer) = std::io::pipe().map_err(SpawnError::Pipe)?;
    let writer2 = writer.try_clone().map_err(SpawnError::Pipe)?;
    // Before spawning, so a failure here leaves no process behind. Makes the read end
    // non-blocking; only we hold it (std's pipes are close-on-exec).
    let reader = pipe::Receiver::from_owned_fd(OwnedFd::from(reader)).map_err(SpawnError::Pipe)?;
    let (child, own, identity) = start(&req, Stdio::null(), writer.into(), writer2.into())?;
    let capture = Capture::start(reader, req.log);
    Ok(Running {
        child,
        identity,
        capture: Some(capture),
        _own: own,
    })
}

/// A started worker: its group (stderr copied into a log that can be switched), and the pipes
/// it talks over.
#[derive(Debug)]
pub struct RunningWorker {
    pub running: Running,
    /// Its standard input: Nightshift's messages.
    pub stdin: tokio::process::ChildStdin,
    /// Its standard output: the worker's messages.
    pub stdout: tokio::process::ChildStdout,
    /// Where its standard error goes next (drop it before `finish_output`, which waits for the
    /// log's writer to end).
    pub stderr: LogSwitch,
}

/// Starts a worker as a new process group leader, with its standard input and output as pipes
/// to us and its standard error copied into `req.log` (switchable). Needs a Tokio runtime.
pub fn spawn_worker(req: SpawnRequest) -> Result<RunningWorker, SpawnError> {
    let (reader, writer) = std::io::pipe().map_err(SpawnError::Pipe)?;
    let reader = pipe::Receiver::from_owned_fd(OwnedFd::from(reader)).map_err(SpawnError::Pipe)?;
    let (mut child, own, identity) = start(&req, Stdio::piped(), Stdio::piped(), writer.into())?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        // Asked for above, so always there; refused rather than run a worker we cannot reach.
        let _ = child.start_kill();
        return Err(SpawnError::NoPid {
            program: req.program,
        });
    };
    let (capture, stderr) = Capture::start_switchable(reader, req.log);
    Ok(RunningWorker {
        running: Running {
            child,
            identity,
            capture: Some(capture),
            _own: own,
        },
        stdin,
        stdout,
        stderr,
    })
}

/// Spawns `req` as a new process group leader with the given standard streams, registered with
/// the orphan reaper, and reads its identity.
fn start(
    req: &SpawnRequest,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<(Child, crate::children::OwnChild, Identity), SpawnError> {
    // Held from before the spawn until the leader is registered, so the orphan reaper never
    // sees it unregistered, even if it exits at once.
    let spawning = crate::children::spawning();
    let mut child = {
        let mut cmd = Command::new(&req.program);
        cmd.args(&req.args)
            .envs(req.env.iter().map(|(k, v)| (k, v)))
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(false);
        if let Some(cwd) = &req.cwd {
            cmd.current_dir(cwd);
        }
        // `cmd` (holding our copies of the pipes' write ends) drops at the end of this block,
        // so the reader sees end-of-file once the group's processes are gone.
        cmd.spawn().map_err(|error| SpawnError::Start {
            program: req.program.clone(),
            cwd: req.cwd.clone(),
            error,
        })?
    };
    // A pid of 0 or 1 as a process group id would be our own group or init's.
    let Some(pid) = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .filter(|&p| p > 1)
    else {
        let _ = child.start_kill();
        return Err(SpawnError::NoPid {
            program: req.program.clone(),
        });
    };
    let own = crate::children::registry().register(pid);
    drop(spawning);
    Ok((child, own, Identity::of(pid)))
}
