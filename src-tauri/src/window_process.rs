//! `nightshift-desktop --window`: the admin window in a process of its own, started by the
//! tray app. WebKit keeps its network process and much of its libraries' memory for as long as
//! the process that showed a page lives; a window in its own process gives all of that back
//! when it closes, so the tray app stays at tray-only memory. Its IPC commands are the same as
//! the in-process ones, carried to the facade through the local API (`remote.rs`).

use crate::app::CHANGED;
use crate::commands::{self, Backend};
use crate::remote::Remote;
use crate::window::MAIN;
use std::io::{BufRead, BufReader};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

pub fn run() -> anyhow::Result<()> {
    let remote = Remote::connect()?;
    let app = tauri::Builder::default()
        .manage(Backend::Remote(remote))
        .invoke_handler(commands::handler())
        .setup(|app| {
            WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
                .title("Nightshift")
                .inner_size(1180.0, 760.0)
                .min_inner_size(640.0, 420.0)
                .build()?;
            follow_changes(app.handle().clone());
            raise_on_request(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!())?;
    // The process ends when its window closes (the default when the last window goes).
    app.run(|_, _| {});
    Ok(())
}

/// Turns the API's change stream into the window's change events; reconnects if it breaks.
fn follow_changes(app: AppHandle) {
    std::thread::spawn(move || {
        loop {
            let stream = match app.state::<Backend>().inner() {
                Backend::Remote(remote) => remote.events(),
                Backend::Local(_) => return,
            };
            if let Ok(reader) = stream {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    if line == "event: changed" {
                        let _ = app.emit_to(MAIN, CHANGED, ());
                    }
                }
            }
            // The tray app restarted or is going away; try again shortly.
            std::thread::sleep(Duration::from_secs(1));
        }
    });
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
