//! The Nightshift desktop app: a tray icon, an admin window, native notifications and start
//! at login, over the same engine and local API as `nightshift daemon` (so the CLI works
//! against it unchanged). A thin shell (DESIGN.md, invariant 3): the window shows the daemon's
//! own page over the local API (no IPC commands at all), the tray calls `nightshift-api`, and
//! the engine knows nothing of Tauri; it emits events that this shell turns into tray state
//! and toasts.

mod app;
mod autostart;
mod display;
mod host;
mod notify;
mod page;
mod toast;
mod tray;
mod tray_view;
mod window;
mod window_process;

use std::process::ExitCode;

/// Exit code when there is no display: the desktop app cannot run here, the daemon can.
const NO_DISPLAY: u8 = 2;

fn main() -> ExitCode {
    nightshift_server::init_logging();
    if let Err(why) = display::check() {
        eprintln!("{why}");
        return ExitCode::from(NO_DISPLAY);
    }
    // `--window [--route /incidents/ID]`: this process is the admin window of a running tray
    // app (on that page).
    let args: Vec<String> = std::env::args().collect();
    let result = if args.iter().any(|a| a == "--window") {
        let route = args
            .iter()
            .position(|a| a == "--route")
            .and_then(|i| args.get(i + 1));
        window_process::run(route.map(String::as_str))
    } else {
        app::run()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
