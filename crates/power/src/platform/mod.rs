//! The machine's real power source, one module per platform.

#[cfg(target_os = "linux")]
pub mod sysfs;

#[cfg(not(target_os = "linux"))]
mod battery_crate;

use crate::{PowerError, PowerSource, PowerState};

/// This machine's power source.
#[derive(Debug)]
pub struct SystemPower {
    #[cfg(target_os = "linux")]
    inner: sysfs::Sysfs,
}

impl SystemPower {
    pub fn new() -> SystemPower {
        SystemPower {
            #[cfg(target_os = "linux")]
            inner: sysfs::Sysfs::new("/sys"),
        }
    }
}

impl Default for SystemPower {
    fn default() -> Self {
        SystemPower::new()
    }
}

impl PowerSource for SystemPower {
    fn read(&self) -> Result<PowerState, PowerError> {
        #[cfg(target_os = "linux")]
        return self.inner.read();
        #[cfg(not(target_os = "linux"))]
        return battery_crate::read();
    }

    fn can_change(&self) -> bool {
        // A machine without a battery stays on AC; nothing to watch.
        self.read().is_ok_and(|s| s.has_battery())
    }
}
