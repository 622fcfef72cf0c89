//! Start at login (tauri-plugin-autostart: on Linux an XDG autostart entry,
//! `~/.config/autostart/Nightshift.desktop`), from the tray's checkbox or the config.

use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;

/// Applies `desktop.autostart` when the config sets it; returns whether start at login is on.
pub fn apply(app: &AppHandle, configured: Option<bool>) -> bool {
    if let Some(on) = configured
        && let Err(e) = set(app, on)
    {
        tracing::warn!(error = %e, "cannot apply desktop.autostart");
    }
    app.autolaunch().is_enabled().unwrap_or(false)
}

pub fn set(app: &AppHandle, on: bool) -> Result<(), String> {
    let launcher = app.autolaunch();
    let result = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| e.to_string())
}
