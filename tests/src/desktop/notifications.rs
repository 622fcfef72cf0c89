//! A notification server for tests: owns `org.freedesktop.Notifications` on the test bus and
//! records every `Notify` call, in order.

use super::session::Bus;
use crate::wait_until;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zbus::zvariant::OwnedValue;

/// One `Notify` call as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The id the server gave it (1, 2, …).
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// The `urgency` hint (0 low, 1 normal, 2 critical), if sent.
    pub urgency: Option<u8>,
    /// Action keys and labels, in pairs, as sent (only when the server says it has actions).
    pub actions: Vec<String>,
}

type Log = Arc<Mutex<Vec<Notification>>>;

struct Server {
    log: Log,
    /// Whether it says it shows actions (the `actions` capability).
    actions: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let id = log.len() as u32 + 1;
        log.push(Notification {
            id,
            app_name,
            summary,
            body,
            urgency,
            actions,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        let mut caps = vec!["body".to_string()];
        if self.actions {
            caps.push("actions".into());
        }
        caps
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "nightshift-e2e".into(),
            "nightshift".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The running server; it stops answering when dropped.
pub struct NotificationServer {
    conn: zbus::blocking::Connection,
    log: Log,
}

impl std::fmt::Debug for NotificationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationServer")
            .field("received", &self.all())
            .finish()
    }
}

impl NotificationServer {
    /// A server without actions (as some are).
    pub fn start(bus: &Bus) -> NotificationServer {
        NotificationServer::start_with(bus, false)
    }

    /// A server that shows actions, as dunst or GNOME Shell do.
    pub fn with_actions(bus: &Bus) -> NotificationServer {
        NotificationServer::start_with(bus, true)
    }

    fn start_with(bus: &Bus, actions: bool) -> NotificationServer {
        let log = Log::default();
        let conn = bus
            .builder()
            .name("org.freedesktop.Notifications")
            .and_then(|b| {
                b.serve_at(
                    "/org/freedesktop/Notifications",
                    Server {
                        log: log.clone(),
                        actions,
                    },
                )
            })
            .and_then(|b| b.build())
            .expect("cannot start the test notification server");
        NotificationServer { conn, log }
    }

    /// The user clicks the action `key` of notification `id`: the server says so on the bus
    /// (`ActionInvoked`), as a real one does.
    pub fn invoke(&self, id: u32, key: &str) {
        self.conn
            .emit_signal(
                None::<&str>,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                &(id, key),
            )
            .expect("cannot emit ActionInvoked");
    }

    /// Everything received so far, in order.
    pub fn all(&self) -> Vec<Notification> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `n` notifications have arrived; returns all of them.
    pub fn wait_count(&self, n: usize, timeout: Duration) -> Vec<Notification> {
        let arrived = wait_until(timeout, || self.all().len() >= n);
        let all = self.all();
        assert!(
            arrived,
            "timed out after {timeout:?} waiting for {n} notification(s); have {all:#?}"
        );
        all
    }
}
