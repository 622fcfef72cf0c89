//! The admin window. Normally it runs in a process of its own (`--window`, see
//! `window_process.rs`): closing it ends that process and all of WebKit's memory with it, so
//! the tray app drops back to tray-only memory. Under WebDriver automation (tauri-driver
//! attaches to the webview of the process it launched) the window is made in this process
//! instead. Either way it shows the daemon's own page over HTTP (`page.rs`), so both are the
//! same window.

use crate::page::Route;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::process::Child;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime, Url, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// The window process, while there is one.
#[derive(Default)]
pub struct WindowProcess(Mutex<Option<Child>>);

fn automated() -> bool {
    std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_some_and(|v| v == "true")
}

/// Shows the window, creating it if it does not exist. Opening it acknowledges failures.
pub fn open(app: &AppHandle) {
    open_at(app, None);
}

/// Shows the window on `route`'s page (or where it is, for `None`).
pub fn open_at(app: &AppHandle, route: Option<Route>) {
    crate::app::acknowledge(app);
    if automated() {
        open_here(app, route);
    } else {
        open_process(app, route);
    }
}

/// Where the tray app leaves the route for a window process it raises (read on SIGUSR2).
pub fn route_file(paths: &nightshift_core::Paths) -> std::path::PathBuf {
    paths.run_dir.join("window-route")
}

/// Sends the window to `route`: the page's own router, so the page stays (and keeps its token
/// and live updates). The route is digits after a fixed prefix (`Route`), safe in a script.
pub fn go<R: Runtime>(window: &tauri::WebviewWindow<R>, route: &Route) {
    let _ = window.eval(format!("location.hash = '#{}';", route.as_str()));
}

fn open_process(app: &AppHandle, route: Option<Route>) {
    let state = app.state::<WindowProcess>();
    let mut child = state.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(running) = child.as_mut()
        && matches!(running.try_wait(), Ok(None))
    {
        // Already open: ask it to come to the front, on the route if there is one.
        if let Some(route) = &route {
            let paths = &app.state::<std::sync::Arc<crate::host::Host>>().paths;
            if let Err(e) = std::fs::write(route_file(paths), route.as_str()) {
                tracing::warn!(error = %e, "cannot pass the window its page");
            }
        }
        // SIGUSR2, not SIGUSR1: WebKit's JavaScriptCore takes SIGUSR1 in every process that
        // links it (to suspend its threads), so a SIGUSR1 never reached our handler.
        let _ = kill(Pid::from_raw(running.id() as i32), Signal::SIGUSR2);
        return;
    }
    let started = std::env::current_exe().and_then(|exe| {
        let mut command = std::process::Command::new(exe);
        command.arg("--window");
        if let Some(route) = &route {
            command.arg("--route").arg(route.as_str());
        }
        command.spawn()
    });
    match started {
        Ok(process) => *child = Some(process),
        Err(e) => tracing::error!(error = %e, "cannot open the window"),
    }
}

/// Closes the window process (on Quit).
pub fn close(app: &AppHandle) {
    if let Some(state) = app.try_state::<WindowProcess>() {
        let mut child = state.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut process) = child.take() {
            let _ = kill(Pid::from_raw(process.id() as i32), Signal::SIGTERM);
            let _ = process.wait();
        }
    }
}

fn open_here(app: &AppHandle, route: Option<Route>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        if let Some(route) = &route {
            go(&window, route);
        }
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let paths = &app.state::<std::sync::Arc<crate::host::Host>>().paths;
    let built = crate::page::address(paths, route.as_ref()).and_then(|url| build(app, url));
    if let Err(e) = built {
        tracing::error!(error = %e, "cannot open the window");
    }
}

/// Makes the window on the daemon's page; it may not navigate away from the daemon's origin.
pub fn build<R: Runtime, M: Manager<R>>(manager: &M, page: Url) -> anyhow::Result<()> {
    let home = page.clone();
    WebviewWindowBuilder::new(manager, MAIN, WebviewUrl::External(page))
        .title("Nightshift")
        .inner_size(1180.0, 760.0)
        .min_inner_size(640.0, 420.0)
        .on_navigation(move |url| crate::page::allowed(&home, url))
        .build()?;
    Ok(())
}
