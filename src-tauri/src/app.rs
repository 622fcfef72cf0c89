//! Putting the shell together: plugins, the hosted engine, the tray, live updates,
//! notifications, and the life cycle (closing the window keeps the tray; Quit stops the engine
//! gracefully).

use crate::host::Host;
use crate::tray::{self, Tray};
use crate::{autostart, notify, tray_view, window};
use anyhow::Context;
use nightshift_core::JobState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tauri::{AppHandle, Manager, RunEvent};

/// Opens the window at start (also when WebDriver automation launches the app, which needs a
/// webview to attach to).
const OPEN_FLAG: &str = "--open";

/// Failed jobs the user has seen (the count when the window was last opened).
#[derive(Default)]
struct Seen {
    failed: AtomicU64,
}

/// Set once Quit has begun, so a second Quit does nothing.
#[derive(Default)]
struct Quitting(AtomicBool);

pub fn run() -> anyhow::Result<()> {
    let open_at_start = std::env::args().any(|a| a == OPEN_FLAG)
        || std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_some_and(|v| v == "true");
    let app = tauri::Builder::default()
        // First: a second launch forwards to this one (which opens its window) and exits
        // before it could touch the engine.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            let handle = app.clone();
            let _ = app.run_on_main_thread(move || window::open(&handle));
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .setup(move |app| {
            // Tauri turns a setup error into a panic; say what went wrong and exit instead.
            if let Err(e) = setup(app.handle(), open_at_start) {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the desktop app")?;
    app.run(|_app, event| {
        // Closing the last window leaves the tray running; only Quit (an explicit exit code)
        // ends the app.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    Ok(())
}

/// Order matters: signals are caught and the notifier listens before anything can happen,
/// and `daemon.json` (what tells the CLI "ready") is written last.
fn setup(app: &AppHandle, open_at_start: bool) -> anyhow::Result<()> {
    let signals = catch_signals()?;
    let host = Arc::new(crate::host::start()?);
    let api = host.api.clone();
    app.manage(api.clone());
    app.manage(host.clone());
    app.manage(Quitting::default());
    app.manage(window::WindowProcess::default());
    if host.config.desktop.notifications {
        let handle = app.clone();
        notify::start(
            api.clone(),
            std::sync::Arc::new(move |incident| {
                let inner = handle.clone();
                let route = crate::page::Route::incident(incident);
                let _ = handle.run_on_main_thread(move || window::open_at(&inner, Some(route)));
            }),
        );
    }
    stop_on_signals(app.clone(), signals);
    stop_on_engine_failure(app.clone(), host.clone());

    let recovery = api.engine().recovery().clone();
    let seen = Seen::default();
    tauri::async_runtime::block_on(async {
        let failed = api
            .summary()
            .await
            .map(|s| s.counts[&JobState::Failed])
            .unwrap_or(0);
        // Failures recovery just caused are news; older ones are not.
        seen.failed.store(
            failed.saturating_sub(recovery.failed.len() as u64),
            Ordering::Relaxed,
        );
    });
    app.manage(seen);

    let autostart_on = autostart::apply(app, host.config.desktop.autostart);
    app.manage(Tray::build(app, autostart_on)?);
    follow_changes(app.clone());
    host.announce()?;
    // After announcing: a window process finds the API through daemon.json.
    if open_at_start {
        window::open(app);
    }
    Ok(())
}

/// Keeps the tray current: one refresh per coalesced change tick. (The window follows the
/// API's event stream itself, as in a browser.)
fn follow_changes(app: AppHandle) {
    let api = app.state::<nightshift_api::Api>().inner().clone();
    tauri::async_runtime::spawn(async move {
        let mut changes = api.changes();
        refresh(&app).await;
        while changes.next().await.is_some() {
            refresh(&app).await;
        }
    });
}

/// Recomputes what the tray shows.
pub async fn refresh(app: &AppHandle) {
    let api = app.state::<nightshift_api::Api>();
    let Ok(summary) = api.summary().await else {
        return;
    };
    let failed = summary.counts.get(&JobState::Failed).copied().unwrap_or(0);
    let unseen = failed.saturating_sub(app.state::<Seen>().failed.load(Ordering::Relaxed));
    app.state::<Tray>().show(tray_view::view(&summary, unseen));
}

/// The user looked: failures so far no longer call for attention.
pub fn acknowledge(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let api = app.state::<nightshift_api::Api>();
        if let Ok(summary) = api.summary().await {
            app.state::<Seen>()
                .failed
                .store(summary.counts[&JobState::Failed], Ordering::Relaxed);
        }
        refresh(&app).await;
    });
}

pub fn on_menu(app: &AppHandle, id: &str) {
    match id {
        tray::ITEM_OPEN => window::open(app),
        tray::ITEM_INCIDENT => {
            let Some(id) = app.state::<Tray>().incident() else {
                return;
            };
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let api = app.state::<nightshift_api::Api>();
                let acked = api
                    .engine()
                    .acknowledge_incident(id, nightshift_api::Door::Tray)
                    .await;
                if let Err(e) = acked {
                    tracing::warn!(error = %e, id, "cannot acknowledge the incident");
                }
                refresh(&app).await;
            });
        }
        tray::ITEM_PAUSE => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let api = app.state::<nightshift_api::Api>();
                let paused = api.summary().await.map(|s| s.paused).unwrap_or(false);
                let _ = if paused {
                    api.resume_all().await
                } else {
                    api.pause_all().await
                };
                refresh(&app).await;
            });
        }
        tray::ITEM_AUTOSTART => {
            let tray = app.state::<Tray>();
            // GTK has already flipped the checkbox; make the entry match it.
            let wanted = tray.autostart.is_checked().unwrap_or(false);
            if let Err(e) = autostart::set(app, wanted) {
                tracing::warn!(error = %e, "cannot change start at login");
                let _ = tray.autostart.set_checked(!wanted);
            }
        }
        tray::ITEM_QUIT => quit(app.clone()),
        _ => {}
    }
}

/// Stops the engine gracefully (running groups SIGTERM, then SIGKILL; jobs re-queued), then
/// exits.
pub fn quit(app: AppHandle) {
    quit_with(app, 0);
}

fn quit_with(app: AppHandle, code: i32) {
    if app.state::<Quitting>().0.swap(true, Ordering::SeqCst) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        window::close(&app);
        let host = app.state::<Arc<Host>>().inner().clone();
        host.stop().await;
        app.exit(code);
    });
}

/// A task of the engine failed (a bug): the app does not limp on with part of the engine gone.
/// It stops as on Quit and exits non-zero, so the session (or whoever started it) can start it
/// afresh; recovery at the next start settles what was running.
fn stop_on_engine_failure(app: AppHandle, host: Arc<Host>) {
    tauri::async_runtime::spawn(async move {
        let what = host.engine_failed().await;
        tracing::error!(failure = %what, "quitting: the engine failed");
        quit_with(app, 70);
    });
}

type Signals = (tokio::signal::unix::Signal, tokio::signal::unix::Signal);

/// Registers for SIGTERM and SIGINT now, so a signal that arrives while the app is still
/// starting is held for `stop_on_signals` instead of killing the process outright.
fn catch_signals() -> anyhow::Result<Signals> {
    use tokio::signal::unix::{SignalKind, signal};
    tauri::async_runtime::block_on(async {
        Ok((
            signal(SignalKind::terminate()).context("cannot catch SIGTERM")?,
            signal(SignalKind::interrupt()).context("cannot catch SIGINT")?,
        ))
    })
}

/// SIGTERM and SIGINT quit as gracefully as the menu's Quit does.
fn stop_on_signals(app: AppHandle, (mut term, mut int): Signals) {
    tauri::async_runtime::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("signal received: quitting");
        quit(app);
    });
}
