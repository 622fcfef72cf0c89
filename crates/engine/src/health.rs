//! Whether the engine can be trusted right now, for `/api/health`, the summary and the tray.
//!
//! - **ok**: writes land and every task runs.
//! - **degraded**: the engine runs, but something needs a person: writes to the database fail
//!   (disk full, unwritable, locked by another program), or outcomes of ended attempts wait to
//!   be recorded. Nothing acknowledged is lost meanwhile (see `outcomes`), and it clears by
//!   itself once writes land again.
//! - **failed**: a task of the engine panicked (a bug). The engine does not limp on: the
//!   failure is announced, and the host stops Nightshift with a non-zero exit code so that a
//!   supervisor (systemd, the desktop session) can start it afresh, with start-up recovery
//!   settling what was running.

use crate::Event;
use nightshift_store::Store;
use std::any::Any;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// While writes fail and nothing else writes, how often a small write checks whether they land
/// again (a real deadline: the health says "degraded" until one does).
const PROBE_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Degraded,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Degraded => "degraded",
            Status::Failed => "failed",
        }
    }
}

/// The engine's health and, unless it is ok, why, in words for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    pub status: Status,
    pub problems: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Health {
    events: broadcast::Sender<Event>,
    store: watch::Receiver<Option<String>>,
    pending: AtomicUsize,
    failed: watch::Sender<Option<String>>,
    /// The problems last announced, so only a change is announced.
    announced: Mutex<Vec<String>>,
}

impl Health {
    pub(crate) fn new(events: broadcast::Sender<Event>, store: &Store) -> Health {
        Health {
            events,
            store: store.write_failure(),
            pending: AtomicUsize::new(0),
            failed: watch::channel(None).0,
            announced: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn report(&self) -> HealthReport {
        let mut problems = Vec::new();
        if let Some(failure) = self.failed.borrow().clone() {
            problems.push(failure);
        }
        if let Some(failure) = self.store.borrow().clone() {
            problems.push(format!("writes to the database fail: {failure}"));
        }
        let pending = self.pending.load(Ordering::Relaxed);
        if pending > 0 {
            problems.push(format!(
                "{pending} ended attempt(s) wait to be recorded; they are retried until they land"
            ));
        }
        let status = if self.failed.borrow().is_some() {
            Status::Failed
        } else if problems.is_empty() {
            Status::Ok
        } else {
            Status::Degraded
        };
        HealthReport { status, problems }
    }

    /// Sets how many outcomes wait for the database.
    pub(crate) fn outcomes_pending(&self, count: usize) {
        self.pending.store(count, Ordering::Relaxed);
        self.announce();
    }

    /// A task of the engine panicked: the engine is failed from now on.
    pub(crate) fn task_failed(&self, task: &str, message: &str) {
        let failure = format!("the engine's {task} failed ({message}); Nightshift must restart");
        tracing::error!(
            task,
            panic = message,
            "a task of the engine panicked; the engine cannot go on"
        );
        self.failed.send_replace(Some(failure));
        self.announce();
    }

    /// Resolves once a task of the engine failed, with what failed.
    pub(crate) fn failure(&self) -> watch::Receiver<Option<String>> {
        self.failed.subscribe()
    }

    /// Tells listeners (the tray, the page) when the problems changed.
    fn announce(&self) {
        let problems = self.report().problems;
        let mut announced = crate::locks::lock(&self.announced);
        if *announced != problems {
            announced.clone_from(&problems);
            let _ = self.events.send(Event::Health { problems });
        }
    }
}

/// Follows the store's write failures: announces each change, and while writes fail, probes
/// with a small write now and then so the health clears once they land again. Idle (healthy)
/// it only waits for a change.
pub(crate) async fn watch_store(health: std::sync::Arc<Health>, store: Store) {
    let mut failures = store.write_failure();
    loop {
        let failing = failures.borrow_and_update().is_some();
        health.announce();
        if failing {
            tokio::select! {
                changed = failures.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(PROBE_EVERY) => {
                    if store.probe_write().await.is_ok() {
                        tracing::info!("writes to the database land again");
                    }
                }
            }
        } else if failures.changed().await.is_err() {
            return;
        }
    }
}

/// Runs one of the engine's long-lived tasks so that a panic in it is reported, not hidden: the
/// engine's health becomes failed and the host stops Nightshift.
pub(crate) async fn supervised(
    health: std::sync::Arc<Health>,
    task: &'static str,
    work: impl Future<Output = ()>,
) {
    use futures_util::FutureExt;
    if let Err(panic) = std::panic::AssertUnwindSafe(work).catch_unwind().await {
        health.task_failed(task, &panic_message(panic.as_ref()));
    }
}

/// The text a panic carried, if any.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_fails_the_engine_and_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("n.db"),
            dir.path(),
            nightshift_core::Synchronous::Normal,
        )
        .unwrap();
        let (events, mut heard) = broadcast::channel(16);
        let health = std::sync::Arc::new(Health::new(events, &store));
        assert_eq!(health.report().status, Status::Ok);
        let mut failure = health.failure();
        supervised(health.clone(), "scheduler", async {
            panic!("a bug in the scheduler")
        })
        .await;
        let report = health.report();
        assert_eq!(report.status, Status::Failed);
        assert!(report.problems[0].contains("scheduler"), "{report:?}");
        assert!(
            report.problems[0].contains("a bug in the scheduler"),
            "{report:?}"
        );
        failure.changed().await.unwrap();
        assert!(failure.borrow().is_some(), "the host is told");
        assert!(matches!(heard.recv().await.unwrap(), Event::Health { .. }));
    }

    #[tokio::test]
    async fn outcomes_waiting_for_the_disk_degrade_the_health_until_they_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("n.db"),
            dir.path(),
            nightshift_core::Synchronous::Normal,
        )
        .unwrap();
        let health = Health::new(broadcast::channel(16).0, &store);
        health.outcomes_pending(2);
        let report = health.report();
        assert_eq!(report.status, Status::Degraded);
        assert!(
            report.problems[0].starts_with("2 ended attempt(s)"),
            "{report:?}"
        );
        health.outcomes_pending(0);
        assert_eq!(health.report().status, Status::Ok);
    }
}
