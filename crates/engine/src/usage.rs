//! What each running attempt's process group uses: CPU time and resident memory, sampled once
//! a second for all running attempts in one pass over the process table (the supervisor's
//! `usage`), and only while any attempt runs (an idle engine takes no samples and no wake-ups).
//! The attempt's end takes its figures (CPU time as last sampled, peak memory over the samples)
//! to be stored with it; running jobs' live figures (CPU percent over the last second, memory
//! now) are read by the API, `top` and the window.
//!
//! An attempt that ends before its first sample has no figures: sampling at the end is not
//! possible (the group is gone by then), and reading each group at its start and end would
//! cost every short job two passes over the process table.

use nightshift_core::{AttemptUsage, JobId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Time between samples.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// A running attempt's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveUsage {
    /// CPU time so far, in milliseconds (the largest sum seen).
    pub cpu_ms: u64,
    /// CPU use over the last interval, in percent of one core (above 100 with several busy).
    pub cpu_percent: Option<f64>,
    pub rss_bytes: u64,
    pub peak_rss_bytes: u64,
    /// Live processes in its group at the last sample.
    pub processes: u32,
    /// Whether it has been sampled yet.
    pub sampled: bool,
}

#[derive(Debug)]
struct Tracked {
    job: JobId,
    pgid: i32,
    usage: LiveUsage,
    last_sample: Option<(std::time::Instant, u64)>,
}

/// The attempts being sampled, by attempt id.
#[derive(Debug)]
pub(crate) struct Sampler {
    tracked: Mutex<HashMap<i64, Tracked>>,
    /// Wakes the sampling task when the first attempt is tracked.
    wake: Notify,
    /// `metrics.enabled`: when off, nothing is tracked (so nothing is ever sampled).
    enabled: bool,
}

impl Sampler {
    pub(crate) fn new(enabled: bool) -> Sampler {
        Sampler {
            tracked: Mutex::default(),
            wake: Notify::new(),
            enabled,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Tracked>> {
        self.tracked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts sampling the group `pgid` of `attempt`.
    pub(crate) fn track(&self, attempt: i64, job: JobId, pgid: i32) {
        if !self.enabled {
            return;
        }
        self.lock().insert(
            attempt,
            Tracked {
                job,
                pgid,
                usage: LiveUsage::default(),
                last_sample: None,
            },
        );
        self.wake.notify_one();
    }

    /// Stops sampling `attempt` and says what it used, if it was sampled.
    pub(crate) fn finish(&self, attempt: i64) -> Option<AttemptUsage> {
        let tracked = self.lock().remove(&attempt)?;
        tracked.usage.sampled.then_some(AttemptUsage {
            cpu_ms: tracked.usage.cpu_ms,
            peak_rss_bytes: tracked.usage.peak_rss_bytes,
        })
    }

    /// Every running attempt's figures, by job.
    pub(crate) fn live(&self) -> HashMap<JobId, LiveUsage> {
        self.lock().values().map(|t| (t.job, t.usage)).collect()
    }

    /// Takes one sample of every tracked group and updates their figures.
    async fn sample(&self) {
        let pgids: Vec<i32> = self.lock().values().map(|t| t.pgid).collect();
        if pgids.is_empty() {
            return;
        }
        let Ok(found) =
            tokio::task::spawn_blocking(move || nightshift_supervisor::usage::sample(&pgids)).await
        else {
            return;
        };
        let now = std::time::Instant::now();
        for tracked in self.lock().values_mut() {
            // A group with no live member (its leader just exited) keeps its last figures.
            let Some(group) = found.get(&tracked.pgid) else {
                continue;
            };
            let usage = &mut tracked.usage;
            usage.cpu_ms = usage.cpu_ms.max(group.cpu_ms);
            usage.rss_bytes = group.rss_bytes;
            usage.peak_rss_bytes = usage.peak_rss_bytes.max(group.rss_bytes);
            usage.processes = group.processes;
            usage.sampled = true;
            usage.cpu_percent = tracked.last_sample.and_then(|(at, cpu)| {
                let elapsed = now.duration_since(at).as_secs_f64();
                (elapsed > 0.0).then(|| usage.cpu_ms.saturating_sub(cpu) as f64 / 10.0 / elapsed)
            });
            tracked.last_sample = Some((now, usage.cpu_ms));
        }
    }

    fn is_idle(&self) -> bool {
        self.lock().is_empty()
    }
}

/// Samples every `INTERVAL` while any attempt is tracked; waits without a timer otherwise.
pub(crate) async fn run(sampler: Arc<Sampler>) {
    loop {
        if sampler.is_idle() {
            sampler.wake.notified().await;
        }
        tokio::time::sleep(INTERVAL).await;
        sampler.sample().await;
    }
}
