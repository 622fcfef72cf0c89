//! A power source read from a JSON file, `{"on_ac": false, "percent": 42}`, rewritten by hand
//! or by a test while Nightshift runs.

use crate::{PowerError, PowerSource, PowerState};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file's content.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedState {
    pub on_ac: bool,
    /// Battery percent; absent for a machine without a battery.
    pub percent: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct SimulatedPower {
    path: PathBuf,
}

impl SimulatedPower {
    pub fn new(path: &Path) -> SimulatedPower {
        SimulatedPower {
            path: path.to_path_buf(),
        }
    }

    /// Writes a state atomically (for tests and demos).
    pub fn write(path: &Path, state: SimulatedState) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(&state).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }
}

impl PowerSource for SimulatedPower {
    fn read(&self) -> Result<PowerState, PowerError> {
        let shown = self.path.display().to_string();
        let text = std::fs::read_to_string(&self.path).map_err(|error| PowerError::Read {
            path: shown.clone(),
            error,
        })?;
        let state: SimulatedState =
            serde_json::from_str(&text).map_err(|e| PowerError::Invalid {
                path: shown.clone(),
                message: format!("{e}; expected for example {{\"on_ac\": false, \"percent\": 42}}"),
            })?;
        if let Some(p) = state.percent
            && !(0.0..=100.0).contains(&p)
        {
            return Err(PowerError::Invalid {
                path: shown,
                message: format!("percent {p} is not between 0 and 100"),
            });
        }
        Ok(PowerState {
            // Without a battery a machine is on AC, whatever the file says.
            on_ac: state.on_ac || state.percent.is_none(),
            battery_percent: state.percent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_written_and_explains_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power.json");
        let source = SimulatedPower::new(&path);
        SimulatedPower::write(
            &path,
            SimulatedState {
                on_ac: false,
                percent: Some(42.0),
            },
        )
        .unwrap();
        assert_eq!(
            source.read().unwrap(),
            PowerState {
                on_ac: false,
                battery_percent: Some(42.0)
            }
        );
        SimulatedPower::write(
            &path,
            SimulatedState {
                on_ac: false,
                percent: None,
            },
        )
        .unwrap();
        assert_eq!(source.read().unwrap(), PowerState::MAINS);
        std::fs::write(&path, "{\"on_ac\": \"yes\"}").unwrap();
        assert!(
            source
                .read()
                .unwrap_err()
                .to_string()
                .contains("expected for example")
        );
        std::fs::write(&path, "{\"on_ac\": true, \"percent\": 140}").unwrap();
        assert!(
            source
                .read()
                .unwrap_err()
                .to_string()
                .contains("between 0 and 100")
        );
    }
}
