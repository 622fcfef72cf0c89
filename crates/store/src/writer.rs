//! The writer thread: the only connection that writes, committing many requests at once.
//!
//! Requests queue on a channel. The thread takes everything waiting (up to `MAX_BATCH`), opens
//! one `BEGIN IMMEDIATE` transaction, runs each request inside its own savepoint (a failing
//! request rolls back only itself; a request alone in its batch needs none), commits once, and
//! only then answers every request. Under load this turns N fsyncs into one; idle, it blocks on
//! the channel and does nothing.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::sync::mpsc;
use tokio::sync::oneshot;

const MAX_BATCH: usize = 512;

/// A request's answer, held back until the transaction it ran in has committed.
type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// The last write that failed for the storage's sake (see `StoreError::is_storage_failure`),
/// until a batch commits cleanly again; readers show it as the store's health.
pub(crate) type Failure = tokio::sync::watch::Sender<Option<String>>;

trait Request: Send {
    /// Runs the request; returns whether it succeeded (else its savepoint is rolled back), the
    /// storage failure it met if any, and how to answer once the commit's result is known.
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Option<String>, Answer);
    /// Answers without running (the transaction could not even begin).
    fn refuse(self: Box<Self>, err: &StoreError);
}

struct Call<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Request for Call<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Option<String>, Answer) {
        let Call { f, reply } = *self;
        let result = f(conn);
        let ok = result.is_ok();
        let failure = result
            .as_ref()
            .err()
            .filter(|e| e.is_storage_failure())
            .map(ToString::to_string);
        let answer: Answer = Box::new(move |commit_error| {
            let _ = reply.send(match commit_error {
                Some(e) => Err(StoreError::not_saved(e)),
                None => result,
            });
        });
        (ok, failure, answer)
    }

    fn refuse(self: Box<Self>, err: &StoreError) {
        let _ = self.reply.send(Err(StoreError::NotBegun {
            message: err.to_string(),
            disk_full: err.is_disk_full(),
        }));
    }
}

/// What the writer thread is asked to do.
enum Message {
    /// A request, run in the next batch's transaction.
    Request(Box<dyn Request>),
    /// Fold the WAL back into the database file, between transactions (a checkpoint cannot run
    /// inside one).
    Checkpoint(oneshot::Sender<Result<()>>),
}

pub(crate) struct Writer {
    tx: mpsc::Sender<Message>,
    failure: tokio::sync::watch::Receiver<Option<String>>,
}

impl Writer {
    pub(crate) fn start(conn: Connection) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Message>();
        let (failed, failure) = tokio::sync::watch::channel(None);
        std::thread::Builder::new()
            .name("nightshift-store-writer".into())
            .spawn(move || run(conn, rx, failed))
            .map_err(|e| StoreError::io("cannot start the store's writer thread", e))?;
        Ok(Writer { tx, failure })
    }

    /// The last storage failure of a write, `None` once a batch has committed cleanly since.
    pub(crate) fn failure(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.failure.clone()
    }

    pub(crate) async fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Request(Box::new(Call { f, reply })))
            .map_err(|_| StoreError::Closed("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Closed("the writer thread dropped a request".into()))?
    }

    /// Folds the WAL back into the database file and truncates it, after every write sent
    /// before it has committed.
    pub(crate) async fn checkpoint(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Checkpoint(reply))
            .map_err(|_| StoreError::Closed("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Closed("the writer thread dropped a request".into()))?
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Message>, failed: Failure) {
    let mut next = rx.recv().ok();
    while let Some(message) = next.take() {
        let first = match message {
            Message::Checkpoint(reply) => {
                let _ = reply.send(checkpoint(&conn));
                next = rx.recv().ok();
                continue;
            }
            Message::Request(request) => request,
        };
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Message::Request(request)) => batch.push(request),
                // Handled after this batch commits, so it covers every write sent before it.
                Ok(checkpoint) => {
                    next = Some(checkpoint);
                    break;
                }
                Err(_) => break,
            }
        }
        let failure = commit_batch(&conn, batch);
        failed.send_if_modified(|last| {
            let changed = *last != failure;
            *last = failure;
            changed
        });
        if next.is_none() {
            next = rx.recv().ok();
        }
    }
    // Every handle is gone: fold the WAL back so the file is complete on its own.
    let _ = checkpoint(&conn);
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`, failing when a reader kept it from completing (its first
/// column, "busy", is 1): the database file alone is then not yet complete.
fn checkpoint(conn: &Connection) -> Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        return Err(StoreError::NotSaved {
            message: "a reader kept the checkpoint from completing".into(),
            disk_full: false,
        });
    }
    Ok(())
}

/// Runs a transaction-control statement, prepared once: these run several times for every
/// batch, and parsing them anew each time was a measurable part of the writer's work.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs and commits one batch; returns the storage failure it met, if any.
fn commit_batch(conn: &Connection, batch: Vec<Box<dyn Request>>) -> Option<String> {
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        let err = StoreError::from(e);
        batch.into_iter().for_each(|r| r.refuse(&err));
        return Some(err.to_string());
    }
    let mut failure = None;
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    // A request alone in its batch needs no savepoint: if it fails, the whole transaction is
    // its own to roll back. (Most batches are one request when the engine is not busy, and the
    // savepoint's two statements were a tenth of the writer's work per job.)
    let alone = batch.len() == 1;
    let mut requests = batch.into_iter();
    while let Some(request) = requests.next() {
        if !alone && let Err(e) = control(conn, "SAVEPOINT request") {
            let err = StoreError::from(e);
            failure = Some(err.to_string());
            request.refuse(&err);
            continue;
        }
        // A panicking request must not take the writer thread (and every later write) down.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| request.run(conn)));
        let ok = match ran {
            Ok((ok, met, answer)) => {
                answers.push(answer);
                failure = failure.or(met);
                ok
            }
            Err(_) => {
                tracing::error!("a store request panicked; its changes are rolled back");
                false
            }
        };
        if alone && !ok {
            // Nothing of it is kept, and it answers with its own error.
            let _ = control(conn, "ROLLBACK");
            answers.into_iter().for_each(|a| a(None));
            return failure;
        }
        let closed = if alone {
            false
        } else if ok {
            control(conn, "RELEASE request").is_err()
        } else {
            control(conn, "ROLLBACK TO request")
                .and_then(|()| control(conn, "RELEASE request"))
                .is_err()
        };
        if closed || conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): the work of
            // every request so far is gone. Say so to each, and run the rest afresh.
            let err = StoreError::NotSaved {
                message: "SQLite rolled the transaction back".into(),
                disk_full: false,
            };
            tracing::error!(
                "the store's transaction was rolled back; retrying the rest of the batch"
            );
            let _ = control(conn, "ROLLBACK");
            answers.drain(..).for_each(|a| a(Some(&err)));
            let rest: Vec<Box<dyn Request>> = requests.collect();
            let later = if rest.is_empty() {
                None
            } else {
                commit_batch(conn, rest)
            };
            return failure.or(later).or_else(|| Some(err.to_string()));
        }
    }
    match control(conn, "COMMIT") {
        Ok(()) => {
            answers.into_iter().for_each(|a| a(None));
            failure
        }
        Err(e) => {
            let err = StoreError::from(e);
            tracing::error!(error = %err, "commit failed; rolling back the batch");
            let _ = control(conn, "ROLLBACK");
            answers.into_iter().for_each(|a| a(Some(&err)));
            Some(err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        Writer::start(conn).unwrap()
    }

    async fn rows(w: &Writer) -> Vec<i64> {
        w.submit(|c| {
            let mut stmt = c.prepare("SELECT x FROM t ORDER BY x")?;
            Ok(stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_panicking_request_does_not_stop_the_writer() {
        let w = writer();
        let panicked = w.submit(|_| -> Result<()> { panic!("boom") }).await;
        assert!(panicked.is_err());
        w.submit(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(rows(&w).await, vec![1]);
    }

    #[tokio::test]
    async fn a_failing_request_leaves_nothing_behind_whether_alone_or_not() {
        let w = writer();
        let failing = |x: i64| {
            move |c: &Connection| -> Result<()> {
                c.execute("INSERT INTO t VALUES (?1)", [x])?;
                Err(StoreError::Corrupt(
                    "a request that fails after writing".into(),
                ))
            }
        };
        // Alone in its batch (nothing else was sent).
        assert!(w.submit(failing(1)).await.is_err());
        assert_eq!(rows(&w).await, Vec::<i64>::new());
        // Beside others in one batch: only it is undone.
        let (a, b, c) = tokio::join!(
            w.submit(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?)),
            w.submit(failing(3)),
            w.submit(|c| Ok(c.execute("INSERT INTO t VALUES (4)", [])?)),
        );
        assert!(a.is_ok() && b.is_err() && c.is_ok(), "{a:?} {b:?} {c:?}");
        assert_eq!(rows(&w).await, vec![2, 4]);
    }

    #[tokio::test]
    async fn when_sqlite_drops_the_transaction_no_request_is_told_a_lie() {
        let w = writer();
        // Queue three requests so they share one batch: the second ends the transaction the way
        // a disk-full error would, taking the first's insert with it.
        let first = w.submit(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?));
        let second = w.submit(|c| Ok(c.execute_batch("ROLLBACK")?));
        let third = w.submit(|c| Ok(c.execute("INSERT INTO t VALUES (3)", [])?));
        let (first, second, third) = tokio::join!(first, second, third);
        let kept = rows(&w).await;
        // Whatever the batching, each answer matches what is in the table.
        assert_eq!(
            first.is_ok(),
            kept.contains(&1),
            "first: {first:?}, table {kept:?}"
        );
        assert!(second.is_err() || !kept.contains(&1));
        assert!(
            third.is_ok() && kept.contains(&3),
            "third: {third:?}, table {kept:?}"
        );
    }
}
