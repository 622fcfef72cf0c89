//! Recurring jobs: a task that sleeps until the next schedule is due, adds one job for each due
//! schedule (catching up at most once for fire times that passed while Nightshift was not
//! running or the machine slept: nightshift-core's recurrence rules), and stores the next fire
//! time. Each run carries the unique key `schedule:<name>`, so while one is queued or running
//! (waiting for power, say) the schedule never adds another: it cannot pile up a burst.

use crate::context::Context;
use nightshift_core::recurrence::Recurrence;
use nightshift_store::{Inserted, NewJob, ScheduleRow};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest the task sleeps while any schedule exists. A timer runs on the monotonic clock,
/// which stands still while the machine sleeps: after a resume a schedule would fire late by
/// the time slept. Looking at the wall clock every minute bounds that to a minute, for one
/// wake-up a minute (none at all without schedules). This is the one timer that is not a real
/// deadline (a departure from DESIGN's invariant 5, noted in DEVELOPMENT.md).
const LOOK_AGAIN: Duration = Duration::from_secs(60);

/// How long to wait before trying the store again after it failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The unique key of a schedule's runs.
pub fn run_key(name: &str) -> String {
    format!("schedule:{name}")
}

/// Runs until `wake` closes (the engine is gone). A message on `wake` makes it look again at
/// once (a schedule was added, changed or removed, or the clock jumped).
pub(crate) async fn run(ctx: Arc<Context>, mut wake: mpsc::UnboundedReceiver<()>) {
    loop {
        let wait = match fire_due(&ctx).await {
            Err(()) => Some(STORE_RETRY),
            Ok(()) => match ctx.store.next_schedule_due().await {
                Ok(Some(at)) => {
                    Some(nightshift_core::timestamp::until(ctx.clock.now_ms(), at).min(LOOK_AGAIN))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the next schedule; trying again in a second");
                    Some(STORE_RETRY)
                }
            },
        };
        let timer = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {}
            message = wake.recv() => {
                if message.is_none() {
                    return;
                }
                while wake.try_recv().is_ok() {}
            }
        }
    }
}

/// Fires every schedule due by now. `Err` if the store failed (try again soon).
async fn fire_due(ctx: &Context) -> Result<(), ()> {
    let now = ctx.clock.now_ms();
    let due = ctx.store.due_schedules(now).await.map_err(|e| {
        tracing::error!(error = %e, "cannot read the schedules that are due");
    })?;
    // One schedule that cannot fire does not hold up the others; it is tried again soon.
    let mut failed = false;
    for row in due {
        failed |= fire(ctx, &row, now).await.is_err();
    }
    if failed { Err(()) } else { Ok(()) }
}

async fn fire(ctx: &Context, row: &ScheduleRow, now: i64) -> Result<(), ()> {
    let Some(next_due) = row.next_due else {
        return Ok(());
    };
    let recurrence = match Recurrence::from_text(&row.recurrence) {
        Ok(r) => r,
        Err(e) => {
            // Stored by an older or damaged writer: stop it rather than fail every minute.
            tracing::error!(schedule = %row.name, error = %e, "cannot read a schedule; it is stopped");
            return record(ctx, row, None, None, now)
                .await
                .map(|_| ())
                .map_err(|e| {
                    tracing::error!(schedule = %row.name, error = %e, "cannot stop a schedule");
                });
        }
    };
    let plan = recurrence.plan(row.anchor, next_due, now, row.catch_up);
    if plan.missed > 1 || plan.skipped() {
        tracing::info!(
            schedule = %row.name,
            missed = plan.missed,
            fired = plan.fire_now,
            "fire times passed while Nightshift was not running or the machine slept; {}",
            if plan.fire_now { "one run catches up" } else { "skipped (no catch-up)" }
        );
    }
    let run = plan.fire_now.then(|| run_of(row));
    let job = record(ctx, row, run, plan.next_due_ms, now)
        .await
        .map_err(|e| {
            tracing::error!(schedule = %row.name, error = %e, "cannot add a scheduled run");
        })?;
    if let Some(run) = job.filter(|run| run.existing) {
        tracing::info!(schedule = %row.name, job = %run.id, "the previous run is still queued or running; no other was added");
    }
    Ok(())
}

/// The job a run of the schedule is.
fn run_of(row: &ScheduleRow) -> NewJob {
    let mut spec = row.job.clone();
    spec.unique_key = Some(run_key(&row.name));
    NewJob {
        spec,
        run_at: None,
        payload: row.payload.clone(),
        after: Vec::new(),
    }
}

/// Stores the run (if any) with the schedule's next fire time, in one transaction, and
/// announces the run (an existing one too, as an enqueue does).
async fn record(
    ctx: &Context,
    row: &ScheduleRow,
    run: Option<NewJob>,
    next_due: Option<i64>,
    now: i64,
) -> Result<Option<Inserted>, crate::EngineError> {
    let wake = run
        .as_ref()
        .map(|r| crate::enqueue::Wake::of(std::slice::from_ref(r)));
    let job = ctx.store.fire_schedule(row.id, run, next_due, now).await?;
    if let (Some(wake), Some(run)) = (wake, job) {
        wake.announce(ctx, &[run]);
    }
    Ok(job)
}

/// Adds one run of the schedule now (or finds the one still queued or running, marked
/// `existing`), recorded as its last run; its next fire time stays.
pub(crate) async fn add_run(
    ctx: &Context,
    row: &ScheduleRow,
    now: i64,
) -> Result<Inserted, crate::EngineError> {
    record(ctx, row, Some(run_of(row)), row.next_due, now)
        .await?
        .ok_or_else(|| crate::EngineError::Internal("a run was stored without an id".into()))
}
