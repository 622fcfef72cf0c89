//! Where the machine's power comes from: on AC or on battery, and how full the battery is.
//!
//! `PowerSource` is the seam the engine reads through (invariant 6: power is injected). The
//! real source reads the platform (`platform/`: sysfs on Linux, with its root as a parameter
//! so tests run it on fixture trees shaped like real machines; the battery crate elsewhere). A
//! simulated source reads a small JSON file that can be rewritten while Nightshift runs, for
//! demos and end-to-end tests. A machine with no battery is on AC.

mod platform;
mod simulated;

pub use platform::SystemPower;
#[cfg(target_os = "linux")]
pub use platform::sysfs::Sysfs;
pub use simulated::{SimulatedPower, SimulatedState};

use serde::{Deserialize, Serialize};

/// What the power source says right now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerState {
    /// Running from mains (or USB-C power delivery). Always true without a battery.
    pub on_ac: bool,
    /// Charge of the system battery (or the average of several), 0 to 100; `None` without one.
    pub battery_percent: Option<f32>,
}

impl PowerState {
    /// A machine with no battery: on AC.
    pub const MAINS: PowerState = PowerState {
        on_ac: true,
        battery_percent: None,
    };

    pub fn has_battery(&self) -> bool {
        self.battery_percent.is_some()
    }
}

impl std::fmt::Display for PowerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.on_ac, self.battery_percent) {
            (true, None) => write!(f, "on AC (no battery)"),
            (true, Some(p)) => write!(f, "on AC, battery {p:.0}%"),
            (false, Some(p)) => write!(f, "on battery, {p:.0}%"),
            (false, None) => write!(f, "on battery"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error("the platform's power information is unavailable: {0}")]
    Platform(String),
}

/// A source of power state. Reading is cheap and synchronous (a few small file reads); the
/// engine reads it on a blocking thread when it polls.
pub trait PowerSource: Send + Sync + std::fmt::Debug {
    fn read(&self) -> Result<PowerState, PowerError>;

    /// Whether the state can change at all; the engine polls only sources that can (a desktop
    /// with no battery costs no wake-ups).
    fn can_change(&self) -> bool {
        true
    }
}
