//! Whether the power source lets a queue start jobs: AC required, or a minimum battery charge
//! with hysteresis (held jobs start again a few points above the minimum, so a battery that
//! hovers at the line does not start and stop work over and over).

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

impl std::fmt::Display for PowerHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PowerHold::NeedsAc => write!(f, "on battery; the queue waits for AC power"),
            PowerHold::BatteryLow {
                percent,
                min,
                resume_at,
            } => write!(
                f,
                "battery {percent:.0}% is under the queue's minimum of {min}%; it starts again at {resume_at}% or on AC"
            ),
        }
    }
}

/// What holds `queue` back, if anything. `held_for_battery`: it was held for a low battery at
/// the last look (then it needs `min + HYSTERESIS` to start again).
pub fn hold(queue: &QueueSettings, power: PowerState, held_for_battery: bool) -> Option<PowerHold> {
    if power.on_ac {
        return None;
    }
    if queue.require_ac {
        return Some(PowerHold::NeedsAc);
    }
    let (min, percent) = (queue.min_battery?, power.battery_percent?);
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
        let text = hold(&q, battery(42.0), false).unwrap().to_string();
        assert!(
            text.contains("42%") && text.contains("50%") && text.contains("55%"),
            "{text}"
        );
    }
}
