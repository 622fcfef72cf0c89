//! The minute snapshot: at the end of every minute, one history row per queue that had anything
//! to show (the minute's tally from `metrics`, and its depth sampled then), stored with the span
//! of minutes this engine has been running, then one bounded step of roll-up and pruning. A
//! write that fails (a full disk) puts the minute's tally back, so the next minute carries it:
//! late, not lost. On a graceful stop the unfinished minute is written too. Each snapshot also
//! measures the logs folder, for Nightshift's own figures.
//!
//! One wake-up a minute. The timer is on the monotonic clock and the minute from the wall
//! clock; after the machine slept, the next snapshot starts a new span, so the sleep is a gap.

use crate::EngineError;
use crate::context::Context;
use crate::power_gate::PowerHold;
use nightshift_core::metrics::history::{Gauges, MINUTE_MS, Row, floor_to};
use nightshift_store::StoreError;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How far past the minute's end the snapshot wakes, so a timer that fires a hair early still
/// lands in the next minute.
const PAST_THE_MINUTE: Duration = Duration::from_millis(20);

/// What the snapshot reads besides the context: the queues power holds and the global pause.
#[derive(Clone)]
pub(crate) struct Sources {
    pub power_held: Arc<RwLock<HashMap<String, PowerHold>>>,
    pub paused: Arc<AtomicBool>,
    /// The power source's latest reading (the incident rules read the queues' limits by it).
    pub power: tokio::sync::watch::Receiver<nightshift_power::PowerState>,
}

/// Held while a snapshot is taken (by the minute's timer, or a stop), so two never interleave.
/// Which minutes were covered is the store's to say (its spans), not state kept here.
#[derive(Debug, Default)]
pub(crate) struct Recorder;

impl Recorder {
    /// Writes the rows of `minute` (the minute that just ended, or on stop the current one),
    /// then takes one step of upkeep. The tally goes back to the metrics if the write fails.
    pub(crate) async fn snapshot(
        &mut self,
        ctx: &Context,
        sources: &Sources,
        minute: i64,
    ) -> Result<(), StoreError> {
        let gauges = gauges_now(ctx, sources).await?;
        let period = ctx.metrics.take_period();
        let rows = rows(minute, &gauges, &period);
        if let Err(e) = ctx.store.record_minute(minute, rows).await {
            ctx.metrics.restore_period(period);
            return Err(e);
        }
        // Measured here, once a minute, not at each scrape: it reads every log file's size.
        let logs = ctx.paths.logs_dir.clone();
        if let Ok(bytes) =
            tokio::task::spawn_blocking(move || crate::self_stats::folder_bytes(&logs)).await
        {
            *crate::locks::lock(&ctx.logs_bytes) = bytes;
        }
        let kept = &ctx.config.metrics;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        // The minute is stored; upkeep that fails is tried again at the next minute.
        if let Err(e) = ctx
            .store
            .roll_up_history(
                ctx.clock.now_ms(),
                ms(kept.minutes_kept),
                ms(kept.hours_kept),
            )
            .await
        {
            tracing::warn!(error = %e, "cannot roll up or prune the metrics history; trying again in a minute");
        }
        Ok(())
    }
}

/// Every queue's depth now, split as the history keeps it (see `Gauges`): read from the store's
/// kept counts and the partial indexes of scheduled and held jobs, never a scan of the table.
pub(crate) async fn gauges_now(
    ctx: &Context,
    sources: &Sources,
) -> Result<BTreeMap<String, Gauges>, StoreError> {
    let depths = ctx.store.queue_depths().await?;
    Ok(split(ctx, sources, &depths))
}

pub(crate) fn split(
    ctx: &Context,
    sources: &Sources,
    depths: &BTreeMap<String, nightshift_store::QueueDepth>,
) -> BTreeMap<String, Gauges> {
    let all_paused = sources.paused.load(Ordering::Relaxed);
    let queues = crate::locks::read(&ctx.queues);
    let held = crate::locks::read(&sources.power_held);
    depths
        .iter()
        .map(|(queue, depth)| {
            let power_held = held.contains_key(queue);
            // The queued state holds the scheduled and the held; the rest are ready, unless
            // power holds their whole queue.
            let ready = depth
                .queued
                .saturating_sub(depth.scheduled)
                .saturating_sub(depth.held);
            let paused = queues.get(queue).is_some_and(|q| q.paused);
            let gauges = Gauges {
                queued: if power_held { 0 } else { ready },
                scheduled: depth.scheduled,
                held: depth
                    .held
                    .saturating_add(if power_held { ready } else { 0 }),
                running: depth.running,
                paused: u64::from(all_paused || paused),
                power_held: u64::from(power_held),
            };
            (queue.clone(), gauges)
        })
        .collect()
}

/// The minute's rows: every queue with jobs in it or with something counted in the minute.
fn rows(
    minute: i64,
    gauges: &BTreeMap<String, Gauges>,
    period: &BTreeMap<String, nightshift_core::metrics::Tally>,
) -> Vec<Row> {
    let mut queues: Vec<&String> = gauges.keys().chain(period.keys()).collect();
    queues.sort();
    queues.dedup();
    queues
        .into_iter()
        .filter_map(|queue| {
            let gauges = gauges.get(queue).copied().unwrap_or_default();
            let tally = period.get(queue).cloned().unwrap_or_default();
            // A queue's flags alone (paused, held) make no row: only its jobs and its counts do.
            let flags_aside = Gauges {
                paused: 0,
                power_held: 0,
                ..gauges
            };
            let quiet = flags_aside.is_zero() && tally.is_empty();
            (!quiet).then(|| Row {
                at: minute,
                queue: queue.clone(),
                gauges,
                tally,
            })
        })
        .collect()
}

/// Runs until the engine stops it: a snapshot at the end of every minute.
pub(crate) async fn run(
    ctx: Arc<Context>,
    sources: Sources,
    recorder: Arc<tokio::sync::Mutex<Recorder>>,
) {
    if !ctx.config.metrics.enabled {
        return;
    }
    loop {
        let now = ctx.clock.now_ms();
        let next = floor_to(now, MINUTE_MS).saturating_add(MINUTE_MS);
        tokio::time::sleep(nightshift_core::timestamp::until(now, next) + PAST_THE_MINUTE).await;
        let minute = floor_to(ctx.clock.now_ms(), MINUTE_MS).saturating_sub(MINUTE_MS);
        if let Err(e) = recorder.lock().await.snapshot(&ctx, &sources, minute).await {
            tracing::warn!(error = %e, "cannot write the minute's metrics history; its counts go into the next minute");
        }
        // The incident rules look again once a minute, so conditions of time move on.
        ctx.incidents.now.notify_one();
    }
}

/// `[from, to)` of one queue or all, in `count` steps of `step` ms from `from` (the last may
/// end at `to`): the stored rows and, for the minute now under way, the live tally not yet
/// written and the depths now (so a summary counts what just happened, and a chart's last
/// point is not dragged toward zero by a minute without depths). The minute under way counts
/// as covered: the engine is running in it.
pub(crate) async fn window(
    ctx: &Context,
    sources: &Sources,
    (from, to): (i64, i64),
    step: i64,
    count: usize,
    queue: Option<&str>,
) -> Result<Vec<nightshift_core::metrics::history::Step>, StoreError> {
    let read = ctx
        .store
        .history_window(from, to, step, queue.map(str::to_string))
        .await?;
    let mut rows = read.rows;
    let mut spans = read.spans;
    let now = ctx.clock.now_ms();
    let minute = floor_to(now, MINUTE_MS);
    // `now` here may be a moment past the caller's `to` (read a little earlier): the minute
    // under way is in the window if it begins before the window's end.
    if now >= from && minute < to {
        // The same rows the minute's snapshot will write.
        let live = self::rows(
            minute,
            &gauges_now(ctx, sources).await?,
            &ctx.metrics.period(),
        );
        rows.extend(
            live.into_iter()
                .filter(|row| queue.is_none_or(|q| q == row.queue)),
        );
        match spans.last_mut() {
            Some(last) if last.1 >= minute.saturating_sub(MINUTE_MS) => last.1 = last.1.max(minute),
            _ => spans.push((minute, minute)),
        }
    }
    Ok(nightshift_core::metrics::history::bucket(
        rows,
        &spans,
        (from, to),
        step,
        count,
    ))
}

/// The history's reads on the handle, and the snapshot a stop or a test asks for.
impl crate::EngineHandle {
    /// Every queue's depth now, by state as the history keeps it: ready, scheduled, held for
    /// power, running, and whether it is paused or held.
    pub async fn queue_gauges(
        &self,
    ) -> Result<
        std::collections::BTreeMap<String, nightshift_core::metrics::history::Gauges>,
        EngineError,
    > {
        Ok(gauges_now(&self.inner.ctx, &self.inner.history_sources).await?)
    }

    /// Writes the current, unfinished minute's history row now (merged with what the minute's
    /// end adds later). A graceful stop does it; tests do it to step a manual clock's minutes.
    pub async fn flush_history(&self) -> Result<(), EngineError> {
        if !self.inner.config.metrics.enabled {
            return Ok(());
        }
        let minute = nightshift_core::metrics::history::floor_to(
            self.now_ms(),
            nightshift_core::metrics::history::MINUTE_MS,
        );
        self.inner
            .recorder
            .lock()
            .await
            .snapshot(&self.inner.ctx, &self.inner.history_sources, minute)
            .await?;
        Ok(())
    }

    /// The history of one queue or all over `[from, to)`, in `count` steps of `step` ms from
    /// `from` (see the `history` module; the minute under way is included live).
    pub async fn history(
        &self,
        window: (i64, i64),
        step: i64,
        count: usize,
        queue: Option<&str>,
    ) -> Result<Vec<nightshift_core::metrics::history::Step>, EngineError> {
        Ok(self::window(
            &self.inner.ctx,
            &self.inner.history_sources,
            window,
            step,
            count,
            queue,
        )
        .await?)
    }

    /// A page of stored history rows for an export (see `Store::history_page`).
    pub async fn history_page(
        &self,
        resolution: nightshift_store::Resolution,
        since: i64,
        after: Option<(i64, String)>,
        queue: Option<String>,
        limit: usize,
    ) -> Result<Vec<nightshift_core::metrics::history::Row>, EngineError> {
        Ok(self
            .inner
            .store
            .history_page(resolution, since, after, queue, limit)
            .await?)
    }

    /// The spans of minutes Nightshift ran that touch `[from, to)` (first and last minute).
    pub async fn history_spans(&self, from: i64, to: i64) -> Result<Vec<(i64, i64)>, EngineError> {
        Ok(self.inner.store.history_spans(from, to).await?)
    }

    /// For a report: commands whose jobs failed from `since` on, as (failures, newest job).
    pub async fn report_failed_commands(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<(u64, nightshift_core::JobId)>, EngineError> {
        Ok(self
            .inner
            .store
            .report_failed_commands(since, limit)
            .await?)
    }

    /// For a report: jobs finished from `since` on that ran longest, with their run time (ms).
    pub async fn report_slowest(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<(nightshift_core::JobId, u64)>, EngineError> {
        Ok(self.inner.store.report_slowest(since, limit).await?)
    }
}
