//! Desktop notifications: engine events become toasts through notify-rust (D-Bus
//! org.freedesktop.Notifications on Linux). Events are gathered for a short window after the
//! first one, so a hundred failures in a few seconds are one toast, not a hundred. Toasts: an
//! incident the user is told of (with Open and Acknowledge actions where the notification
//! server has actions), a job failed for good, a `--notify` job ended, recovery after an
//! unclean stop, and work that power held going on when it returns.

use crate::toast::{Notable, Toast, compose};
use nightshift_api::{Api, Door, Notice, RuleId, Severity};
use nightshift_core::JobState;
use nightshift_engine::Event;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How long after the first notable event others are gathered into the same toast. Longer
/// than the engine's wait before it evaluates the incident rules after jobs end (2 s), so a
/// failure storm and the incident it opens are one toast.
pub const COALESCE: Duration = Duration::from_millis(3000);

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
        // A resolution by hand is the user's own doing: nothing to tell them. An unclean
        // restart has recovery's own toast.
        Event::Incident {
            incident,
            notice: Some(notice),
            door,
        } if !(notice == Notice::Resolved && door != Door::Nightshift)
            && incident.rule != RuleId::UncleanRestart =>
        {
            Some(Notable::Incident {
                id: incident.id,
                title: incident.title,
                description: incident.description,
                critical: incident.severity == Severity::Critical,
                notice,
            })
        }
        _ => None,
    }
}

/// Starts the notifier on the engine's startup receiver, so nothing since the engine began
/// starting is missed (recovery's report included). `open` shows the window on an incident's
/// page (the incident's Open action).
pub fn start(api: Api, open: std::sync::Arc<dyn Fn(i64) + Send + Sync>) {
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
                let (api, open) = (api.clone(), open.clone());
                tauri::async_runtime::spawn_blocking(move || send(&toast, &api, &*open));
            }
        }
    });
}

fn send(toast: &Toast, api: &Api, open: &(dyn Fn(i64) + Send + Sync)) {
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
    if toast.incident.is_some() && has_actions() {
        n.action("default", "Open")
            .action("open", "Open")
            .action("acknowledge", "Acknowledge");
    }
    let handle = match n.show() {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, summary = toast.summary, "cannot show a notification");
            return;
        }
    };
    let Some(id) = toast.incident.filter(|_| has_actions()) else {
        return;
    };
    // This blocking thread waits for the user's answer (or the toast's closing).
    #[cfg(all(unix, not(target_os = "macos")))]
    handle.wait_for_action(|action| match action {
        "acknowledge" => {
            let acked = tauri::async_runtime::block_on(
                api.engine().acknowledge_incident(id, Door::Notification),
            );
            if let Err(e) = acked {
                tracing::warn!(error = %e, id, "cannot acknowledge the incident");
            }
        }
        "open" | "default" => open(id),
        _ => {}
    });
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = (handle, api, open, id);
}

/// Whether the notification server shows actions (its `actions` capability).
fn has_actions() -> bool {
    notify_rust::get_capabilities().is_ok_and(|c| c.iter().any(|c| c == "actions"))
}
