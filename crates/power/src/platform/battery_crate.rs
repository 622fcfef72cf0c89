//! macOS and Windows: the battery crate (IOKit, the Windows power APIs). It reports batteries
//! only, so "on AC" is taken from the batteries' state: charging or full means powered.
//! Not built or tested on the Linux machines this project runs CI on.

use crate::{PowerError, PowerState};

pub(crate) fn read() -> Result<PowerState, PowerError> {
    let manager = battery::Manager::new().map_err(|e| PowerError::Platform(e.to_string()))?;
    let mut percents = Vec::new();
    let mut discharging = false;
    for battery in manager
        .batteries()
        .map_err(|e| PowerError::Platform(e.to_string()))?
    {
        let battery = battery.map_err(|e| PowerError::Platform(e.to_string()))?;
        percents.push(battery.state_of_charge().value * 100.0);
        discharging |= battery.state() == battery::State::Discharging;
    }
    if percents.is_empty() {
        return Ok(PowerState::MAINS);
    }
    let percent = percents.iter().sum::<f32>() / percents.len() as f32;
    Ok(PowerState {
        on_ac: !discharging,
        battery_percent: Some(percent),
    })
}
