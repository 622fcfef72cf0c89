//! The system-CPU ceiling (`jobs.max_cpu`): no new job starts while the machine's CPU use is
//! above it. CPU use is a rate, so a reading takes two samples a moment apart; one is taken
//! only when work waits for a slot and the last reading is stale, and while the ceiling holds
//! work back it is taken again every few seconds (a real deadline: work waits on it). Without
//! a ceiling, or with nothing waiting, nothing is sampled.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a reading stands for dispatch decisions.
pub(crate) const FRESH: Duration = Duration::from_secs(1);
/// Between the two samples of a reading (above sysinfo's minimum for a meaningful rate).
const SAMPLE_GAP: Duration = Duration::from_millis(300);
/// How soon a held dispatch looks again.
pub(crate) const RECHECK: Duration = Duration::from_secs(2);

/// System CPU use, in percent of all cores, measured over `SAMPLE_GAP` on a blocking thread.
pub(crate) async fn measure(system: Arc<Mutex<sysinfo::System>>) -> Option<f32> {
    let first = system.clone();
    tokio::task::spawn_blocking(move || crate::locks::lock(&first).refresh_cpu_usage())
        .await
        .ok()?;
    tokio::time::sleep(SAMPLE_GAP).await;
    tokio::task::spawn_blocking(move || {
        let mut system = crate::locks::lock(&system);
        system.refresh_cpu_usage();
        system.global_cpu_usage()
    })
    .await
    .ok()
}

/// The last reading and when it was taken.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    pub percent: f32,
    pub at: Instant,
}

impl Reading {
    pub(crate) fn is_fresh(&self) -> bool {
        self.at.elapsed() < FRESH
    }
}

/// Why the ceiling holds new jobs back, for readers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CpuHold {
    pub percent: f32,
    pub ceiling: u8,
}

impl std::fmt::Display for CpuHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CPU busy: {:.0}% is over the ceiling of {}% (jobs.max_cpu)",
            self.percent, self.ceiling
        )
    }
}

/// Whether a reading holds new jobs back under `ceiling`.
pub(crate) fn holds(percent: f32, ceiling: u8) -> Option<CpuHold> {
    (percent > f32::from(ceiling)).then_some(CpuHold { percent, ceiling })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reading_over_the_ceiling_holds() {
        assert_eq!(holds(80.0, 80), None);
        let hold = holds(93.4, 80).unwrap();
        assert_eq!(
            hold.to_string(),
            "CPU busy: 93% is over the ceiling of 80% (jobs.max_cpu)"
        );
    }

    #[tokio::test]
    async fn a_reading_of_this_machine_is_a_percentage() {
        let system = Arc::new(Mutex::new(sysinfo::System::new()));
        let percent = measure(system).await.expect("a reading");
        assert!((0.0..=100.0).contains(&percent), "{percent}");
    }
}
