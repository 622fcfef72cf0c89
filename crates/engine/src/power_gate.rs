//! Whether the power source lets a queue (or one job) start or keep running: AC required, or a
//! minimum battery charge with hysteresis (held work goes on again a few points above the
//! minimum, so a battery that hovers at the line does not start and stop work over and over).

use crate::queues::QueueSettings;
use nightshift_power::PowerState;
use serde::Serialize;

/// Points above `min_battery` at which jobs held for a low battery start again.
pub const HYSTERESIS: u8 = 5;

/// Why power holds a queue back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PowerHold {
    /// On battery, and the queue requires AC.
    NeedsAc,
    /// On battery below the queue's minimum (or below the point it resumes at).
    BatteryLow {
        percent: f32,
        min: u8,
        resume_at: u8,
    },
}

impl PowerHold {
    /// In words, naming whose policy it is ("the queue", "the job").
    pub fn describe(&self, whose: &str) -> String {
        match self {
            PowerHold::NeedsAc => format!("on battery; {whose} waits for AC power"),
            PowerHold::BatteryLow {
                percent,
                min,
                resume_at,
            } => format!(
                "battery {percent:.0}% is under {whose}'s minimum of {min}%; it goes on at {resume_at}% or on AC"
            ),
        }
    }
}

impl std::fmt::Display for PowerHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("the queue"))
    }
}

/// What a queue or a job asks of the power supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PowerNeeds {
    pub require_ac: bool,
    pub min_battery: Option<u8>,
}

impl PowerNeeds {
    pub fn of_queue(queue: &QueueSettings) -> PowerNeeds {
        PowerNeeds {
            require_ac: queue.require_ac,
            min_battery: queue.min_battery,
        }
    }

    pub fn of_job(spec: &nightshift_core::JobSpec) -> PowerNeeds {
        PowerNeeds {
            require_ac: spec.require_ac,
            min_battery: spec.min_battery.filter(|m| *m > 0),
        }
    }

    /// Both at once: a job's needs add to its queue's.
    pub fn and(self, other: PowerNeeds) -> PowerNeeds {
        PowerNeeds {
            require_ac: self.require_ac || other.require_ac,
            min_battery: self.min_battery.max(other.min_battery),
        }
    }

    pub fn is_none(&self) -> bool {
        !self.require_ac && self.min_battery.is_none()
    }
}

/// What holds `queue` back, if anything. `held_for_battery`: it was held for a low battery at
/// the last look (then it needs `min + HYSTERESIS` to start again).
pub fn hold(queue: &QueueSettings, power: PowerState, held_for_battery: bool) -> Option<PowerHold> {
    hold_for(PowerNeeds::of_queue(queue), power, held_for_battery)
}

/// What `needs` holds back with this power, if anything (see `hold`).
pub fn hold_for(needs: PowerNeeds, power: PowerState, held_for_battery: bool) -> Option<PowerHold> {
    if power.on_ac {
        return None;
    }
    if needs.require_ac {
        return Some(PowerHold::NeedsAc);
    }
    let (min, percent) = (needs.min_battery?, power.battery_percent?);
    let resume_at = min.saturating_add(HYSTERESIS).min(100);
    let needed = if held_for_battery { resume_at } else { min };
    (percent < f32::from(needed)).then_some(PowerHold::BatteryLow {
        percent,
        min,
        resume_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::LimitSource;

    fn queue(require_ac: bool, min_battery: Option<u8>) -> QueueSettings {
        QueueSettings {
            name: "q".into(),
            concurrency: 1,
            limit_source: LimitSource::Default,
            paused: false,
            require_ac,
            min_battery,
            on_power_loss: Default::default(),
            battery_concurrency: None,
            timeout_ms: None,
            max_attempts: None,
            retry_backoff: std::time::Duration::from_secs(5),
        }
    }

    fn battery(percent: f32) -> PowerState {
        PowerState {
            on_ac: false,
            battery_percent: Some(percent),
        }
    }

    #[test]
    fn ac_releases_everything_and_require_ac_holds_on_battery() {
        let plugged = PowerState {
            on_ac: true,
            battery_percent: Some(3.0),
        };
        assert_eq!(hold(&queue(true, Some(90)), plugged, true), None);
        assert_eq!(
            hold(&queue(true, None), battery(99.0), false),
            Some(PowerHold::NeedsAc)
        );
        assert_eq!(hold(&queue(false, None), battery(1.0), false), None);
    }

    #[test]
    fn a_minimum_battery_holds_below_it_and_releases_only_above_the_hysteresis() {
        let q = queue(false, Some(50));
        assert!(
            hold(&q, battery(49.0), false).is_some(),
            "under the minimum"
        );
        assert_eq!(
            hold(&q, battery(50.0), false),
            None,
            "at the minimum, not yet held"
        );
        // Once held, 50..54 keeps it held; 55 releases it.
        for p in [50.0, 52.0, 54.9] {
            assert!(hold(&q, battery(p), true).is_some(), "{p}% while held");
        }
        assert_eq!(hold(&q, battery(55.0), true), None);
        // A job's needs add to its queue's: the higher minimum and AC if either asks.
        let job = PowerNeeds {
            require_ac: false,
            min_battery: Some(70),
        };
        let both = PowerNeeds::of_queue(&q).and(job);
        assert_eq!(both.min_battery, Some(70));
        assert!(hold_for(both, battery(60.0), false).is_some());
        let ac = PowerNeeds {
            require_ac: true,
            min_battery: None,
        };
        assert_eq!(
            hold_for(both.and(ac), battery(99.0), false),
            Some(PowerHold::NeedsAc)
        );
        let text = hold(&q, battery(42.0), false).unwrap().to_string();
        assert!(
            text.contains("42%") && text.contains("50%") && text.contains("55%"),
            "{text}"
        );
    }
}
