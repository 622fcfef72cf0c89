//! Desktop notifications: engine events become toasts through notify-rust (D-Bus
//! org.freedesktop.Notifications on Linux). Events are gathered for a short window after the
//! first one, so a hundred failures in a few seconds are one toast, not a hundred. Toasts: a
//! job failed for good, a `--notify` job ended, recovery after an unclean stop, and work that
//! power held going on when it returns.

use crate::toast::{Notable, Toast, compose};
use nightshift_api::Api;
use nightshift_core::JobState;
use nightshift_engine::Event;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How long after the first notable event others are gathered into the same toast.
pub const COALESCE: Duration = Duration::from_millis(1500);

fn notable(event: Event) -> Option<Notable> {
    match event {
        Event::Ended {
            id,
            state: JobState::Failed,
            reason,
            ..
        } => Some(Notable::Failed { id, reason }),
        Event::Ended {
            id,
            state,
            notify: true,
            ..
        } if state.is_final() => Some(Notable::Finished { id, state }),
        Event::Recovered { requeued, failed } if !(requeued.is_empty() && failed.is_empty()) => {
            Some(Notable::Recovered {
                requeued: requeued.len(),
                failed: failed.len(),
            })
        }
        Event::PowerResumed { started, continued } => {
            Some(Notable::PowerResumed { started, continued })
        }
        _ => None,
    }
}

/// Starts the notifier on the engine's startup receiver, so nothing since the engine began
/// starting is missed (recovery's report included).
pub fn start(api: Api) {
    let mut events = api.subscribe_from_start();
    tauri::async_runtime::spawn(async move {
        loop {
            let first = loop {
                match events.recv().await {
                    Ok(event) => {
                        if let Some(n) = notable(event) {
                            break n;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            };
            let mut batch = vec![first];
            let until = tokio::time::Instant::now() + COALESCE;
            while let Ok(next) = tokio::time::timeout_at(until, events.recv()).await {
                match next {
                    Ok(event) => batch.extend(notable(event)),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
            let single = match batch.as_slice() {
                [Notable::Failed { id, .. }] | [Notable::Finished { id, .. }] => Some(*id),
                _ => None,
            };
            let command = match single {
                Some(id) => api.show(id).await.ok().map(|d| d.job.command),
                None => None,
            };
            if let Some(toast) = compose(&batch, command.as_deref()) {
                // notify-rust blocks on a D-Bus round trip: keep it off the async threads.
                tauri::async_runtime::spawn_blocking(move || send(&toast));
            }
        }
    });
}

fn send(toast: &Toast) {
    let mut n = notify_rust::Notification::new();
    n.appname("Nightshift")
        .summary(&toast.summary)
        .body(&toast.body)
        .icon("nightshift");
    #[cfg(all(unix, not(target_os = "macos")))]
    n.urgency(if toast.urgent {
        notify_rust::Urgency::Critical
    } else {
        notify_rust::Urgency::Normal
    });
    if let Err(e) = n.show() {
        tracing::warn!(error = %e, summary = toast.summary, "cannot show a notification");
    }
}
