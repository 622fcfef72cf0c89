//! `nightshift-desktop --window`: the admin window in a process of its own, started by the
//! tray app. WebKit keeps its network process and much of its libraries' memory for as long as
//! the process that showed a page lives; a window in its own process gives all of that back
//! when it closes, so the tray app stays at tray-only memory. It shows the daemon's page
//! (`page.rs`), which reaches the tray app's engine through the local API like any browser.

use crate::window::MAIN;
use nightshift_core::Paths;
use tauri::{AppHandle, Manager};

pub fn run() -> anyhow::Result<()> {
    let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
    let page = crate::page::address(&paths)?;
    let app = tauri::Builder::default()
        .setup(move |app| {
            crate::window::build(app, page)?;
            raise_on_request(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!())?;
    // The process ends when its window closes (the default when the last window goes).
    app.run(|_, _| {});
    Ok(())
}

/// The tray app sends SIGUSR1 when "Open Nightshift" is chosen while this window exists.
fn raise_on_request(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut raise) = signal(SignalKind::user_defined1()) else {
            return;
        };
        while raise.recv().await.is_some() {
            if let Some(window) = app.get_webview_window(MAIN) {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }
    });
}
