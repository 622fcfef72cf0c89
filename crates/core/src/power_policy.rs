//! What a job or a queue asks of the power supply: AC only, a minimum battery charge, and what
//! to do with a running job when power stops meeting that.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What happens to a running job when power is lost (AC unplugged while it needs AC, or the
/// battery falls under its minimum).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OnPowerLoss {
    /// Let it run to its end (the default: stopping work is never the safe guess).
    #[default]
    Finish,
    /// Stop its process group (SIGSTOP) until power is back (SIGCONT); paused time does not
    /// count toward its timeout.
    Pause,
    /// Stop it (SIGTERM, then SIGKILL) and put it back in its queue without using an attempt.
    Requeue,
}

impl OnPowerLoss {
    pub const ALL: [OnPowerLoss; 3] = [
        OnPowerLoss::Finish,
        OnPowerLoss::Pause,
        OnPowerLoss::Requeue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OnPowerLoss::Finish => "finish",
            OnPowerLoss::Pause => "pause",
            OnPowerLoss::Requeue => "requeue",
        }
    }
}

impl fmt::Display for OnPowerLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OnPowerLoss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OnPowerLoss::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "invalid power-loss action '{}'; expected finish, pause or requeue",
                    s.escape_debug()
                )
            })
    }
}

/// Parses a minimum battery percentage (0 to 100, an optional `%`; 0 means no minimum), with an
/// error that shows the accepted form.
pub fn parse_percent(text: &str) -> Result<u8, String> {
    let trimmed = text.trim();
    let digits = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
    match digits.parse::<u8>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(format!(
            "invalid battery percentage '{}'; expected a whole number from 0 to 100 (0: no minimum), e.g. 30 or 30%",
            text.escape_debug()
        )),
    }
}

/// Checks a minimum battery given as a number (API, config file).
pub fn validate_min_battery(percent: u8) -> Result<(), String> {
    if percent <= 100 {
        Ok(())
    } else {
        Err(format!(
            "minimum battery must be a whole number from 0 to 100 (0: no minimum), got {percent}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_bad_ones_name_the_choices() {
        for a in OnPowerLoss::ALL {
            assert_eq!(a.as_str().parse::<OnPowerLoss>().unwrap(), a);
        }
        let err = "stop".parse::<OnPowerLoss>().unwrap_err();
        assert!(
            err.contains("'stop'") && err.contains("finish, pause or requeue"),
            "{err}"
        );
    }

    #[test]
    fn percentages_are_whole_numbers_from_0_to_100() {
        assert_eq!(parse_percent("30").unwrap(), 30);
        assert_eq!(parse_percent("0").unwrap(), 0);
        assert_eq!(parse_percent(" 30% ").unwrap(), 30);
        assert_eq!(parse_percent("100").unwrap(), 100);
        for bad in ["101", "-5", "30.5", "half", ""] {
            let err = parse_percent(bad).unwrap_err();
            assert!(
                err.contains("0 to 100") && err.contains("e.g. 30"),
                "{bad}: {err}"
            );
        }
        assert!(validate_min_battery(100).is_ok());
        assert!(validate_min_battery(101).is_err());
    }
}
