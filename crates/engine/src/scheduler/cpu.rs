//! The CPU ceiling (`jobs.max_cpu`) in the scheduler: a fresh reading before a job may start,
//! taken off the scheduler's task, and a look again later while it holds work back.

use super::{Command, Scheduler};
use std::sync::Arc;

/// The CPU ceiling's state in the scheduler (present only with `jobs.max_cpu`).
pub(super) struct CpuCeiling {
    pub(super) ceiling: u8,
    pub(super) system: Arc<std::sync::Mutex<sysinfo::System>>,
    pub(super) last: Option<crate::cpu::Reading>,
    pub(super) measuring: bool,
    /// Look again then (Unix ms): the ceiling holds work back.
    pub(super) recheck_at: Option<i64>,
}

impl CpuCeiling {
    pub(super) fn new(ceiling: u8) -> CpuCeiling {
        CpuCeiling {
            ceiling,
            system: Arc::new(std::sync::Mutex::new(sysinfo::System::new())),
            last: None,
            measuring: false,
            recheck_at: None,
        }
    }
}

impl Scheduler {
    /// What the CPU ceiling holds new jobs back for now: `None` when it lets them start,
    /// `Some(Some(hold))` with a fresh reading above it, and `Some(None)` without a fresh
    /// reading, which this then starts (its arrival dispatches again).
    pub(super) fn cpu_hold(&mut self) -> Option<Option<crate::cpu::CpuHold>> {
        // No ceiling, nothing held.
        let cpu = self.cpu.as_mut()?;
        let hold = match cpu.last {
            Some(reading) if reading.is_fresh() => crate::cpu::holds(reading.percent, cpu.ceiling),
            _ => {
                if !cpu.measuring {
                    cpu.measuring = true;
                    let system = cpu.system.clone();
                    let scheduler = self.ctx.scheduler.clone();
                    tokio::spawn(async move {
                        let percent = crate::cpu::measure(system).await;
                        let _ = scheduler.send(Command::CpuReading(percent));
                    });
                }
                return Some(None);
            }
        };
        if hold.is_some() {
            let at =
                nightshift_core::timestamp::later(self.ctx.clock.now_ms(), crate::cpu::RECHECK);
            cpu.recheck_at = Some(cpu.recheck_at.map_or(at, |r| r.min(at)));
        }
        *crate::locks::write(&self.ctx.cpu_held) = hold;
        hold.map(Some)
    }
}
