//! Incidents on a running engine: the rules (`nightshift_core::incident`) evaluated on the
//! figures the engine already keeps, and the lifecycle's changes stored, announced
//! (`Event::Incident`) and appended to the alert history (a JSON Lines file).
//!
//! Evaluation is event driven: after each minute's snapshot (the history task's one wake-up a
//! minute, so time-based conditions move on; skipped when none can, `idle`) and shortly after
//! jobs are added or end, a queue's settings change or a pool changes (so a failure storm is
//! seen within seconds). It reads the metrics history's windows (merged minute rows, never the
//! jobs table), the pools, the running jobs (bounded by the queues' limits) and the disk. With
//! metrics off there is no history, and no incident.
//!
//! The lifecycle's book lives here behind one lock: evaluations and people's actions
//! (acknowledge, snooze, resolve) take turns on it, and each change is stored before it is
//! announced.

mod alerts;
mod apply;
mod handle;
mod idle;
mod inputs;

use crate::Event;
use crate::context::Context;
use nightshift_core::incident::baseline::Baseline;
use nightshift_core::incident::lifecycle::{Book, Settings};
use nightshift_core::incident::{Rule, RuleId};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

pub use handle::RuleNow;

/// How long after a job's end (or a pool's change) the rules are evaluated, so a burst of
/// endings is one evaluation.
const SETTLE: Duration = Duration::from_secs(2);

/// What the start found of a Nightshift that did not stop cleanly: when, how many processes,
/// and the jobs they ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recovered {
    pub at: i64,
    pub processes: u64,
    pub jobs: Vec<nightshift_core::JobId>,
}

/// The incidents' shared state.
pub(crate) struct State {
    pub rules: Vec<Rule>,
    pub settings: Settings,
    /// `None` until the evaluator has read the open incidents at its start.
    pub book: Mutex<Option<Book>>,
    /// Wakes the evaluator now (the minute's snapshot was written).
    pub now: Notify,
    /// Baselines by queue, and the hour they were learned in (from the hours before it).
    pub baselines: std::sync::Mutex<(i64, BTreeMap<String, Learned>)>,
    pub recovered: std::sync::Mutex<Option<Recovered>>,
    /// The latest findings' values by rule and scope (for `incidents rules`).
    pub values: std::sync::Mutex<BTreeMap<(RuleId, String), f64>>,
    /// When this engine started (Unix ms): the history's minutes since were all recorded.
    pub started_at: i64,
}

/// What a queue's history says is usual.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Learned {
    pub baseline: Option<Baseline>,
    /// Its usual run time: the learned p95, or the last day's (ms).
    pub usual_ms: Option<f64>,
}

impl State {
    pub(crate) fn new(config: &nightshift_core::Config, started_at: i64) -> State {
        State {
            rules: config.incidents.rules(),
            settings: config.incidents.settings(),
            book: Mutex::new(None),
            now: Notify::new(),
            baselines: Default::default(),
            recovered: Default::default(),
            values: Default::default(),
            started_at,
        }
    }
}

/// Evaluates until the engine stops: after each minute's snapshot, and a moment after jobs end.
pub(crate) async fn run(ctx: Arc<Context>, sources: crate::history::Sources) {
    let on = ctx.config.incidents.enabled && ctx.config.metrics.enabled;
    if !on {
        return;
    }
    let mut events = ctx.events.subscribe();
    let state = ctx.incidents.clone();
    if let Err(e) = open_book(&ctx).await {
        tracing::warn!(error = %e, "cannot read the open incidents; trying again in a minute");
    }
    evaluate_now(&ctx, &sources).await;
    // When jobs were last added or ended, or a queue or pool changed (none yet).
    let mut last_activity = i64::MIN;
    loop {
        let mut settle = false;
        tokio::select! {
            () = state.now.notified() => {
                if !idle::minute_matters(&ctx, last_activity).await {
                    continue;
                }
            }
            event = events.recv() => match event {
                // What moves the figures the rules read: jobs added or ended, a queue's settings,
                // a pool's workers, and what holds work back (a pause, the power supply).
                Ok(
                    Event::Queued { .. }
                    | Event::Ended { .. }
                    | Event::QueueChanged { .. }
                    | Event::PoolChanged { .. }
                    | Event::Recovered { .. }
                    | Event::Paused { .. }
                    | Event::PowerChanged { .. },
                ) => settle = true,
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => settle = true,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
        if settle {
            last_activity = ctx.clock.now_ms();
            // Let the rest of a burst arrive; the minute's snapshot may come meanwhile.
            tokio::select! {
                () = tokio::time::sleep(SETTLE) => {}
                () = state.now.notified() => {}
            }
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                events.try_recv()
            {}
        }
        evaluate_now(&ctx, &sources).await;
    }
}

async fn open_book(ctx: &Context) -> Result<(), nightshift_store::StoreError> {
    let mut book = ctx.incidents.book.lock().await;
    if book.is_none() {
        let cooldown =
            i64::try_from(ctx.incidents.settings.cooldown.as_millis()).unwrap_or(i64::MAX);
        let (open, recent) = ctx
            .store
            .incident_book(ctx.clock.now_ms().saturating_sub(cooldown))
            .await?;
        *book = Some(Book::new(open, recent));
    }
    Ok(())
}

/// One evaluation: the figures, the rules, the changes stored and announced.
pub(crate) async fn evaluate_now(ctx: &Arc<Context>, sources: &crate::history::Sources) {
    if open_book(ctx).await.is_err() {
        return;
    }
    let inputs = match inputs::gather(ctx, sources).await {
        Ok(inputs) => inputs,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the figures the incident rules need");
            return;
        }
    };
    let state = &ctx.incidents;
    let mut findings = nightshift_core::incident::evaluate::evaluate(&state.rules, &inputs);
    inputs::affected_jobs(ctx, &mut findings).await;
    *crate::locks::lock(&state.values) = findings.iter().map(|f| (f.key(), f.value)).collect();
    let mut book = state.book.lock().await;
    let Some(book) = book.as_mut() else { return };
    let changes = book.evaluate(findings, inputs.now, &state.settings);
    apply::all(ctx, book, changes).await;
}
