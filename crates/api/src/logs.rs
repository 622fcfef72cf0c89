//! Following a job's log while it runs.

use nightshift_core::JobId;
use nightshift_engine::EngineHandle;
use nightshift_supervisor::logfile::Follower;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a follower looks for new output. Only while someone follows a log: the engine
/// itself never polls. A log is a file the job's processes write directly through a pipe copy,
/// and a quarter second is what people expect from `tail -f`.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Chunks of a job's output, ending when the job has finished and everything is read.
#[derive(Debug)]
pub struct LogStream {
    rx: mpsc::Receiver<Result<Vec<u8>, String>>,
}

impl LogStream {
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, String>> {
        self.rx.recv().await
    }

    pub fn into_receiver(self) -> mpsc::Receiver<Result<Vec<u8>, String>> {
        self.rx
    }
}

pub(crate) fn follow(engine: EngineHandle, id: JobId, tail: Option<usize>) -> LogStream {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let dir = engine.paths().logs_dir.clone();
        let mut follower = Follower::new(&dir, id.0);
        let first = tokio::task::spawn_blocking(move || {
            let chunk = follower.start(tail);
            (follower, chunk)
        })
        .await;
        let Ok((mut follower, chunk)) = first else {
            return;
        };
        if !send(&tx, chunk).await {
            return;
        }
        loop {
            // Read the state before the output, so output written just before the end is read.
            let finished = matches!(engine.state(id).await, Ok(Some(s)) if s.is_final());
            let read = tokio::task::spawn_blocking(move || {
                let chunk = follower.read_new();
                (follower, chunk)
            })
            .await;
            let Ok((next, chunk)) = read else { return };
            follower = next;
            if !send(&tx, chunk).await || finished {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_EVERY) => {}
                () = tx.closed() => return,
            }
        }
    });
    LogStream { rx }
}

/// Sends a non-empty chunk; false when the reader has gone or reading failed.
async fn send(tx: &mpsc::Sender<Result<Vec<u8>, String>>, chunk: std::io::Result<Vec<u8>>) -> bool {
    match chunk {
        Ok(bytes) if bytes.is_empty() => !tx.is_closed(),
        Ok(bytes) => tx.send(Ok(bytes)).await.is_ok(),
        Err(e) => {
            let _ = tx.send(Err(format!("cannot read the log: {e}"))).await;
            false
        }
    }
}
