//! Copying an attempt's output pipe into its log, without letting the copy outlive the attempt.
//!
//! The pipe is read asynchronously: a process that left the group (`setsid`, a daemon) can hold
//! the write end open forever, and a thread blocked in `read` could then never be stopped, so
//! the runtime could not shut down and the log kept growing after the attempt. An async reader
//! is simply dropped. Writing the log is file I/O, which must not run on executor threads
//! (invariant 4), so the chunks go through a small channel to one writer on the blocking pool,
//! started by the first output and ending when the reader does (its channel closes).

use crate::logfile::LogWriter;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// The most read in one go.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the writer; when full the reader waits, so a job that outpaces the disk
/// is slowed down (as with a plain pipe) instead of growing our memory.
const QUEUE: usize = 8;

/// What goes to the writer: output, or (for a worker's standard error) the log to write the
/// following output to.
enum Piece {
    Chunk(Vec<u8>),
    Switch(LogWriter),
}

/// Sends the following output of a worker's standard error to another log (the log of the job
/// it now works on, or its own between jobs). Output already read goes where it was going.
#[derive(Debug, Clone)]
pub struct LogSwitch {
    tx: mpsc::Sender<Piece>,
}

impl std::fmt::Debug for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Piece::Chunk(c) => write!(f, "Chunk({} bytes)", c.len()),
            Piece::Switch(_) => f.write_str("Switch"),
        }
    }
}

impl LogSwitch {
    /// Output from now on goes to `log`. False once the output has ended.
    pub async fn switch(&self, log: LogWriter) -> bool {
        self.tx.send(Piece::Switch(log)).await.is_ok()
    }

    /// Writes `bytes` into the current log, in order with the output (a worker's log messages,
    /// which arrive on its standard output, go where its standard error goes).
    pub async fn write(&self, bytes: Vec<u8>) -> bool {
        self.tx.send(Piece::Chunk(bytes)).await.is_ok()
    }
}

/// The running copy of one attempt's output. Dropping it stops reading the pipe.
#[derive(Debug)]
pub(crate) struct Capture {
    reader: JoinHandle<()>,
    /// Tells the reader to take what the pipe holds now and stop.
    stop: Arc<Notify>,
    /// The log's writer, once the first output has started it.
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Capture {
    /// Starts copying `pipe` into `log`. Needs a Tokio runtime. The writer (a task on the
    /// blocking pool) starts with the first output: most jobs of a busy queue print nothing,
    /// and then they cost no blocking task and no thread wake-up.
    pub(crate) fn start(pipe: pipe::Receiver, log: LogWriter) -> Capture {
        let stop = Arc::new(Notify::new());
        let writer = Arc::new(Mutex::new(None));
        let reader = tokio::spawn(read(pipe, Start::Lazy(log), writer.clone(), stop.clone()));
        Capture {
            reader,
            stop,
            writer,
        }
    }

    /// Starts copying `pipe` into `log`, with a handle that changes the log as it goes. The
    /// writer starts at once (a worker lives long, and a switch must have somewhere to go).
    pub(crate) fn start_switchable(pipe: pipe::Receiver, log: LogWriter) -> (Capture, LogSwitch) {
        let stop = Arc::new(Notify::new());
        let (tx, chunks) = mpsc::channel(QUEUE);
        let task = tokio::task::spawn_blocking(move || write(log, chunks));
        let writer = Arc::new(Mutex::new(Some(task)));
        let reader = tokio::spawn(read(
            pipe,
            Start::Running(tx.clone()),
            writer.clone(),
            stop.clone(),
        ));
        (
            Capture {
                reader,
                stop,
                writer,
            },
            LogSwitch { tx },
        )
    }

    /// Waits up to `limit` for the end of the output (with `now`, only for what the pipe holds
    /// at this moment), then stops reading (closing our end of the pipe), and waits up to
    /// `limit` again for the writer to store what was read. After this returns nothing reads
    /// the pipe any more, and the writer, if a slow disk held it past the limit, only finishes
    /// the chunks already read.
    pub(crate) async fn finish(mut self, limit: Duration, pgid: i32, now: bool) {
        if now {
            self.stop.notify_one();
        }
        // Usually the reader has seen the end of the output by now: then no timer is set.
        let read_all = self.reader.is_finished()
            || tokio::time::timeout(limit, &mut self.reader).await.is_ok();
        if !read_all {
            tracing::warn!(
                pgid,
                "output pipe still open after the group ended: a process left the group; \
                 no longer reading its output"
            );
            self.reader.abort();
            let _ = (&mut self.reader).await;
        }
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = writer {
            match tokio::time::timeout(limit, writer).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(pgid, error = %e, "the log writer failed"),
                Err(_) => tracing::warn!(pgid, "the job's log is still being written"),
            }
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // An attempt dropped without `finish` must not leave a reader behind.
        self.reader.abort();
    }
}

/// How the reader reaches its writer: one to start with the first chunk, or one running.
enum Start {
    Lazy(LogWriter),
    Running(mpsc::Sender<Piece>),
}

/// Reads the pipe until end of file (every writer gone), or until `stop` and then only what
/// the pipe holds, handing chunks to the writer, which the first chunk starts (into `writer`)
/// unless it runs already.
async fn read(
    mut pipe: pipe::Receiver,
    start: Start,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
    stop: Arc<Notify>,
) {
    let (mut log, mut tx) = match start {
        Start::Lazy(log) => (Some(log), None),
        Start::Running(tx) => (None, Some(tx)),
    };
    let mut buf = vec![0u8; CHUNK];
    let mut stopping = false;
    loop {
        let read = if stopping {
            match pipe.try_read(&mut buf) {
                // Nothing more for now: what was written before the stop is all in.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                other => other,
            }
        } else {
            tokio::select! {
                read = pipe.read(&mut buf) => read,
                () = stop.notified() => {
                    stopping = true;
                    continue;
                }
            }
        };
        match read {
            Ok(0) => return,
            Ok(n) => {
                if let Some(log) = log.take() {
                    let (sender, chunks) = mpsc::channel(QUEUE);
                    let task = tokio::task::spawn_blocking(move || write(log, chunks));
                    *writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
                    tx = Some(sender);
                }
                // Keep draining even without a writer: closing the pipe would kill the job
                // with SIGPIPE.
                if let Some(sender) = &tx
                    && sender.send(Piece::Chunk(buf[..n].to_vec())).await.is_err()
                {
                    tracing::error!("the log writer stopped; discarding the job's output");
                    tx = None;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the job's output");
                return;
            }
        }
    }
}

/// Writes chunks until the reader is gone (and, for a worker, every switch handle). Runs on
/// the blocking pool.
fn write(mut log: LogWriter, mut rx: mpsc::Receiver<Piece>) {
    while let Some(piece) = rx.blocking_recv() {
        match piece {
            Piece::Chunk(chunk) => log.write_or_discard(&chunk),
            Piece::Switch(next) => {
                log.report_loss();
                log = next;
            }
        }
    }
    log.report_loss();
}
