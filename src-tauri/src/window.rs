//! The admin window: created when opened, destroyed when closed (so the app drops back to
//! tray-only memory), created anew when opened again.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// Shows the window, creating it if it does not exist. Opening it acknowledges failures.
pub fn open(app: &AppHandle) {
    crate::app::acknowledge(app);
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Nightshift")
        .inner_size(1180.0, 760.0)
        .min_inner_size(640.0, 420.0)
        .build();
    if let Err(e) = built {
        tracing::error!(error = %e, "cannot open the window");
    }
}
