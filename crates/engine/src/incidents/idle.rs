//! Whether a minute's evaluation can find anything new. Events (jobs added or ended, a queue or
//! a pool changed) evaluate by themselves; the minute's snapshot is there for conditions that
//! move with time alone. When none can, the evaluation is skipped, so an idle Nightshift does
//! nothing for incidents at all (it cost some 40 thread wake-ups a minute). Time moves a
//! condition only while:
//!
//! - an incident is open (`for`, `resolve_after`, a snooze's end, reminders);
//! - a job runs (`long_running`, the rates as it ends);
//! - something happened within the longest rule window (rates and backlogs as it leaves the
//!   window, `stalled` as nothing more happens);
//! - the start's recovery is in its window (`unclean_restart`);
//! - a pool is short of ready workers (`worker_down`);
//! - the data folder's disk is over its line (`disk_full`: read here, one `statvfs`).

use crate::context::Context;
use nightshift_core::incident::RuleId;
use nightshift_core::worker::view::WorkerState;
use std::sync::atomic::Ordering;

pub(super) async fn minute_matters(ctx: &Context, last_activity: i64) -> bool {
    let state = &ctx.incidents;
    let now = ctx.clock.now_ms();
    let rule = |id: RuleId| state.rules.iter().find(|r| r.id == id && r.enabled);
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let open = state
        .book
        .lock()
        .await
        .as_ref()
        .is_some_and(|book| book.open().next().is_some());
    let longest = state
        .rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| ms(r.window))
        .max()
        .unwrap_or(0)
        .saturating_add(nightshift_core::metrics::history::MINUTE_MS);
    let recent = now.saturating_sub(last_activity) <= longest;
    let recovering = rule(RuleId::UncleanRestart).is_some_and(|r| {
        crate::locks::lock(&state.recovered)
            .as_ref()
            .is_some_and(|rec| now.saturating_sub(rec.at) < ms(r.window))
    });
    let short = ctx.pools.views().iter().any(|p| {
        !p.stopped
            && p.workers
                .iter()
                .any(|w| !matches!(w.state, WorkerState::Idle | WorkerState::Busy))
    });
    open || recent || recovering || short || ctx.running.load(Ordering::Relaxed) > 0 || {
        rule(RuleId::DiskFull).is_some_and(|r| {
            super::inputs::disk_use(&ctx.paths.data_dir).is_some_and(|(used, total)| {
                total > 0 && used as f64 * 100.0 / total as f64 >= r.threshold
            })
        })
    }
}
