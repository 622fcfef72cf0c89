//! Linux: `/sys/class/power_supply`. Batteries are entries of type Battery (peripherals such
//! as a wireless mouse say `scope = Device` and are ignored); adapters are entries of type
//! Mains or USB (USB-C power delivery) with `online`. The battery crate reports batteries
//! only, so this reads both itself, from a root given as a parameter: tests point it at
//! fixture trees copied from real machines.

use crate::{PowerError, PowerSource, PowerState};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Sysfs {
    root: PathBuf,
}

/// One system battery's charge, with its capacity as the weight when several are averaged.
struct Charge {
    percent: f32,
    weight: f32,
    status: String,
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn read_number(dir: &Path, file: &str) -> Option<f32> {
    read_trimmed(&dir.join(file))?.parse().ok()
}

fn battery_charge(dir: &Path) -> Option<Charge> {
    if read_trimmed(&dir.join("scope")).is_some_and(|s| s.eq_ignore_ascii_case("device")) {
        return None; // a peripheral's battery, not the machine's
    }
    if read_trimmed(&dir.join("present")).is_some_and(|p| p == "0") {
        return None; // an empty battery bay
    }
    let ratio = |now: &str, full: &str| -> Option<(f32, f32)> {
        let (now, full) = (read_number(dir, now)?, read_number(dir, full)?);
        (full > 0.0).then(|| {
            (
                (f64::from(now) / f64::from(full) * 100.0).clamp(0.0, 100.0) as f32,
                full,
            )
        })
    };
    let (percent, weight) = ratio("energy_now", "energy_full")
        .or_else(|| ratio("charge_now", "charge_full"))
        .or_else(|| Some((read_number(dir, "capacity")?.clamp(0.0, 100.0), 1.0)))?;
    Some(Charge {
        percent,
        weight,
        status: read_trimmed(&dir.join("status")).unwrap_or_default(),
    })
}

impl Sysfs {
    /// `root` is the sysfs mount (`/sys` on a real machine).
    pub fn new(root: impl Into<PathBuf>) -> Sysfs {
        Sysfs { root: root.into() }
    }

    pub fn read(&self) -> Result<PowerState, PowerError> {
        let dir = self.root.join("class/power_supply");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // No power_supply class at all (a VM, a container): mains powered.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PowerState::MAINS),
            Err(error) => {
                return Err(PowerError::Read {
                    path: dir.display().to_string(),
                    error,
                });
            }
        };
        let mut charges = Vec::new();
        let mut adapters = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            match read_trimmed(&path.join("type")).as_deref() {
                Some("Battery") => charges.extend(battery_charge(&path)),
                Some("Mains" | "USB" | "USB_C" | "USB_PD" | "USB_PD_DRP" | "Wireless") => {
                    adapters.extend(read_trimmed(&path.join("online")).map(|o| o != "0"));
                }
                _ => {}
            }
        }
        if charges.is_empty() {
            return Ok(PowerState::MAINS);
        }
        let weight: f64 = charges.iter().map(|c| f64::from(c.weight)).sum();
        let percent = charges
            .iter()
            .map(|c| f64::from(c.percent) * f64::from(c.weight))
            .sum::<f64>()
            / weight;
        // Tenths of a percent: more is noise, and it keeps equal readings equal.
        let percent = ((percent * 10.0).round() / 10.0) as f32;
        let status = |s: &str| charges.iter().any(|c| c.status.eq_ignore_ascii_case(s));
        let on_ac = if adapters.iter().any(|online| *online) {
            true
        } else if !adapters.is_empty() {
            // Every adapter says offline; a battery cannot charge without power, though.
            status("Charging")
        } else {
            // Battery present, adapter unknown: the battery's own status decides.
            !status("Discharging")
        };
        Ok(PowerState {
            on_ac,
            battery_percent: Some(percent),
        })
    }
}

impl PowerSource for Sysfs {
    fn read(&self) -> Result<PowerState, PowerError> {
        Sysfs::read(self)
    }
}
