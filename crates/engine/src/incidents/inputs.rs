//! The figures one evaluation reads: each rule window's tallies and the depths now from the
//! metrics history (the minute under way included), the queues' limits and holds, the pools,
//! the running jobs, the disk, and this start's recovery. Baselines are learned from the
//! hourly history at most once an hour.

use super::Learned;
use crate::context::Context;
use crate::history::Sources;
use nightshift_core::incident::RuleId;
use nightshift_core::incident::baseline;
use nightshift_core::incident::evaluate::{Inputs, QueueInputs};
use nightshift_core::incident::lifecycle::Finding;
use nightshift_core::metrics::Tally;
use nightshift_core::metrics::history::MINUTE_MS;
use nightshift_store::StoreError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
/// The hourly history baselines are learned from.
const BASELINE_DAYS: i64 = 7;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(super) async fn gather(ctx: &Context, sources: &Sources) -> Result<Inputs, StoreError> {
    let now = ctx.clock.now_ms();
    let state = &ctx.incidents;
    let rules = &state.rules;
    let enabled = |id: RuleId| rules.iter().any(|r| r.id == id && r.enabled);
    // One read per distinct window; each gives every queue's tally over it.
    let windows: BTreeSet<Duration> = rules
        .iter()
        .filter(|r| r.enabled && !r.window.is_zero() && r.id.per_queue())
        .map(|r| r.window)
        .collect();
    let mut tallies: BTreeMap<String, BTreeMap<Duration, Tally>> = BTreeMap::new();
    let mut ready_at_start: BTreeMap<String, BTreeMap<Duration, u64>> = BTreeMap::new();
    // Growing-backlog windows that began after this engine started: every minute of them was
    // recorded, so a queue with no row at their start had nothing ready then.
    let mut seen_from_start: Vec<Duration> = Vec::new();
    // Up to and including this very millisecond (and so the minute under way).
    let to = now.saturating_add(1);
    for w in &windows {
        let span = ms(*w).max(MINUTE_MS);
        let from = to.saturating_sub(span);
        let steps = crate::history::window(ctx, sources, (from, to), span, 1, None).await?;
        for (queue, row) in steps.into_iter().flat_map(|s| s.queues) {
            tallies.entry(queue).or_default().insert(*w, row.tally);
        }
        // The depths at the window's start, for the growing backlog's window only.
        let growing = rules
            .iter()
            .any(|r| r.id == RuleId::BacklogGrowing && r.enabled && r.window == *w);
        if growing {
            if from >= state.started_at {
                seen_from_start.push(*w);
            }
            let first = crate::history::window(
                ctx,
                sources,
                (from, from.saturating_add(MINUTE_MS)),
                MINUTE_MS,
                1,
                None,
            )
            .await?;
            for (queue, row) in first.into_iter().flat_map(|s| s.queues) {
                ready_at_start
                    .entry(queue)
                    .or_default()
                    .insert(*w, row.gauges.queued);
            }
        }
    }
    let depths = ctx.store.queue_depths().await?;
    let gauges = crate::history::split(ctx, sources, &depths);
    let learned = learned(ctx, sources, now).await?;
    let mut running: BTreeMap<String, Vec<(nightshift_core::JobId, i64)>> = BTreeMap::new();
    if enabled(RuleId::LongRunning) {
        for (id, queue, started) in ctx.store.running_jobs().await? {
            running.entry(queue).or_default().push((id, started));
        }
    }
    let on_ac = sources.power.borrow().on_ac;
    let all_paused = sources.paused.load(Ordering::Relaxed);
    let cpu_held = crate::locks::read(&ctx.cpu_held).is_some();
    let power_held = crate::locks::read(&sources.power_held).clone();
    let mut names: BTreeSet<String> = tallies.keys().cloned().collect();
    names.extend(gauges.keys().cloned());
    let queues = names
        .into_iter()
        .map(|name| {
            let settings = crate::queues::settings(&ctx.config, &ctx.queues, &name);
            let g = gauges.get(&name).copied().unwrap_or_default();
            let limit = settings.limit(on_ac);
            let free_slot = g.running < u64::from(limit)
                && (!ctx.pools.serves(&name) || ctx.pools.idle(&name) > 0);
            let held = all_paused
                || settings.paused
                || limit == 0
                || cpu_held
                || power_held.contains_key(&name);
            let known = learned.get(&name).copied().unwrap_or_default();
            QueueInputs {
                windows: tallies.remove(&name).unwrap_or_default(),
                ready_at_start: {
                    let mut at = ready_at_start.remove(&name).unwrap_or_default();
                    for w in &seen_from_start {
                        at.entry(*w).or_insert(0);
                    }
                    at
                },
                gauges: g,
                free_slot,
                held,
                waiting: depths.get(&name).map_or(0, |d| d.waiting),
                baseline: known.baseline,
                usual_ms: known.usual_ms,
                running: running.remove(&name).unwrap_or_default(),
                name,
            }
        })
        .collect();
    let disk = if enabled(RuleId::DiskFull) {
        let dir = ctx.paths.data_dir.clone();
        tokio::task::spawn_blocking(move || disk_use(&dir))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let recovery = crate::locks::lock(&state.recovered)
        .as_ref()
        .map(|r| (r.at, r.processes));
    Ok(Inputs {
        now,
        queues,
        pools: ctx.pools.views(),
        disk,
        recovery,
    })
}

/// Bytes in use and in all on the disk holding `dir`, as an unprivileged user sees it.
pub(super) fn disk_use(dir: &std::path::Path) -> Option<(u64, u64)> {
    let fs = nix::sys::statvfs::statvfs(dir).ok()?;
    // The field types are u64 on Linux; `as` keeps platforms with narrower ones building.
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    let (block, free, available, blocks) = (
        fs.fragment_size() as u64,
        fs.blocks_free() as u64,
        fs.blocks_available() as u64,
        fs.blocks() as u64,
    );
    // What root keeps back counts as neither: `df`'s "Use%".
    let used = blocks.saturating_sub(free);
    let usable = used.saturating_add(available);
    Some((used.saturating_mul(block), usable.saturating_mul(block)))
}

/// Each queue's baseline and usual run time, learned again when an hour begins.
async fn learned(
    ctx: &Context,
    sources: &Sources,
    now: i64,
) -> Result<BTreeMap<String, Learned>, StoreError> {
    let hour = nightshift_core::metrics::history::floor_to(now, HOUR_MS);
    {
        // Learned from the whole hours before this one: the same until the next hour begins.
        let cached = crate::locks::lock(&ctx.incidents.baselines);
        if cached.0 != 0 && cached.0 == hour {
            return Ok(cached.1.clone());
        }
    }
    let count = usize::try_from(BASELINE_DAYS * 24).unwrap_or(168);
    let from = hour.saturating_sub(HOUR_MS.saturating_mul(BASELINE_DAYS * 24));
    // Whole hours before the one under way: the baseline is what was usual, not what is now.
    let steps = crate::history::window(ctx, sources, (from, hour), HOUR_MS, count, None).await?;
    let mut hours: BTreeMap<String, Vec<Tally>> = BTreeMap::new();
    let day_from = hour.saturating_sub(24 * HOUR_MS);
    let mut day: BTreeMap<String, Tally> = BTreeMap::new();
    for step in steps {
        for (queue, row) in step.queues {
            if step.at >= day_from {
                day.entry(queue.clone()).or_default().merge(&row.tally);
            }
            hours.entry(queue).or_default().push(row.tally);
        }
    }
    let learned: BTreeMap<String, Learned> = hours
        .into_iter()
        .map(|(queue, tallies)| {
            let baseline = baseline::learn(&tallies);
            let day_p95 = day
                .get(&queue)
                .filter(|t| t.run.count() >= 10)
                .and_then(|t| t.run.quantile_ms(0.95))
                .map(|ms| ms as f64);
            let usual_ms = baseline
                .map(|b| b.p95_mean)
                .filter(|p| *p > 0.0)
                .or(day_p95);
            (queue, Learned { baseline, usual_ms })
        })
        .collect();
    *crate::locks::lock(&ctx.incidents.baselines) = (hour, learned.clone());
    Ok(learned)
}

/// Names the jobs behind failure findings (the latest failed jobs of the queue in the window)
/// and behind an unclean restart (the jobs recovery reclaimed).
pub(super) async fn affected_jobs(ctx: &Context, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        match f.rule {
            RuleId::FailureRate | RuleId::SuccessRate | RuleId::SuccessBelowBaseline => {
                let Some(queue) = f.queue.clone() else {
                    continue;
                };
                let window = ctx
                    .incidents
                    .rules
                    .iter()
                    .find(|r| r.id == f.rule)
                    .map_or(Duration::ZERO, |r| r.window);
                let since = ctx.clock.now_ms().saturating_sub(ms(window));
                if let Ok(jobs) = ctx
                    .store
                    .recent_failed(queue, since, nightshift_core::incident::MAX_AFFECTED)
                    .await
                {
                    f.jobs = jobs;
                }
            }
            RuleId::UncleanRestart => {
                if let Some(r) = crate::locks::lock(&ctx.incidents.recovered).as_ref() {
                    f.jobs = r.jobs.clone();
                }
            }
            _ => {}
        }
    }
}
