//! `nightshift-desktop --window`: the admin window in a process of its own, started by the
//! tray app. WebKit keeps its network process and much of its libraries' memory for as long as
//! the process that showed a page lives; a window in its own process gives all of that back
//! when it closes, so the tray app stays at tray-only memory. It shows the daemon's page
//! (`page.rs`), which reaches the tray app's engine through the local API like any browser.

use crate::page::Route;
use crate::window::MAIN;
use nightshift_core::Paths;
use tauri::{AppHandle, Manager};

/// `route`: the page to open on (`--route /incidents/ID`), checked again here.
pub fn run(route: Option<&str>) -> anyhow::Result<()> {
    let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
    let route = match route {
        Some(text) => Some(
            Route::parse(text).ok_or_else(|| anyhow::anyhow!("--route {text:?} is not a page"))?,
        ),
        None => None,
    };
    let page = crate::page::address(&paths, route.as_ref())?;
    let route_file = crate::window::route_file(&paths);
    // One a window that closed before reading it left behind is not for this window.
    let _ = std::fs::remove_file(&route_file);
    let app = tauri::Builder::default()
        .setup(move |app| {
            crate::window::build(app, page)?;
            raise_on_request(app.handle().clone(), route_file);
            Ok(())
        })
        .build(tauri::generate_context!())?;
    // The process ends when its window closes (the default when the last window goes).
    app.run(|_, _| {});
    Ok(())
}

/// The tray app sends SIGUSR2 (see `window::open_process`) when "Open Nightshift" is chosen
/// while this window exists, or a notification's Open; for the latter it first leaves the page
/// to go to in `route_file`.
fn raise_on_request(app: AppHandle, route_file: std::path::PathBuf) {
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut raise) = signal(SignalKind::user_defined2()) else {
            return;
        };
        while raise.recv().await.is_some() {
            // Taken once: a later plain "Open Nightshift" leaves the page where it is.
            let route = std::fs::read_to_string(&route_file)
                .ok()
                .and_then(|text| Route::parse(&text));
            let _ = std::fs::remove_file(&route_file);
            if let Some(window) = app.get_webview_window(MAIN) {
                if let Some(route) = &route {
                    tracing::info!(route = %route.as_str(), "the window goes to a page");
                    crate::window::go(&window, route);
                }
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }
    });
}
