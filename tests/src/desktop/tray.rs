//! The tray as a desktop shell sees it: a StatusNotifierWatcher that records registrations, and
//! a client for the registered StatusNotifierItem and its com.canonical.dbusmenu menu.
//!
//! What D-Bus exposes of an appindicator tray (and so what tests can check): the item's
//! properties (Id, Status, IconName — with tray-icon, an absolute path to a PNG it wrote —,
//! Title, Menu) and the menu's layout (labels, enabled, toggle type and state) and events
//! (`clicked`). A tooltip does not exist there: appindicator has no ToolTip property, and
//! tray-icon's `set_tooltip` does nothing on Linux.

use super::session::Bus;
use crate::wait_until;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedValue, Value};

const ITEM_IFACE: &str = "org.kde.StatusNotifierItem";
const MENU_IFACE: &str = "com.canonical.dbusmenu";

/// One `RegisterStatusNotifierItem` call: who called, and what it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The caller's unique bus name.
    pub sender: String,
    /// The argument: an object path (appindicator) or a bus name (other implementations).
    pub service: String,
}

type Registrations = Arc<Mutex<Vec<Registration>>>;

struct WatcherIface {
    items: Registrations,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl WatcherIface {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Registration { sender, service });
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items
            .iter()
            .map(|r| format!("{}{}", r.sender, r.service))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// A test StatusNotifierWatcher owning `org.kde.StatusNotifierWatcher`.
pub struct Watcher {
    _conn: Connection,
    client: Connection,
    items: Registrations,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("items", &self.registrations())
            .finish()
    }
}

impl Watcher {
    pub fn start(bus: &Bus) -> Watcher {
        let items = Registrations::default();
        let conn = bus
            .builder()
            .name("org.kde.StatusNotifierWatcher")
            .and_then(|b| {
                b.serve_at(
                    "/StatusNotifierWatcher",
                    WatcherIface {
                        items: items.clone(),
                    },
                )
            })
            .and_then(|b| b.build())
            .expect("cannot start the test StatusNotifierWatcher");
        Watcher {
            _conn: conn,
            client: bus.connect(),
            items,
        }
    }

    pub fn registrations(&self) -> Vec<Registration> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until the process `pid` has registered an item; a client for that item.
    pub fn wait_item_of(&self, bus: &Bus, pid: u32, timeout: Duration) -> TrayItem {
        let mut found = None;
        let ok = wait_until(timeout, || {
            found = self
                .registrations()
                .into_iter()
                .find(|r| bus.try_pid_of(&self.client, &r.sender) == Some(pid));
            found.is_some()
        });
        assert!(
            ok,
            "process {pid} registered no StatusNotifierItem within {timeout:?}; registrations: {:?}",
            self.registrations()
        );
        let r = found.expect("found");
        let path = if r.service.starts_with('/') {
            r.service.clone()
        } else {
            "/StatusNotifierItem".to_string()
        };
        TrayItem {
            conn: self.client.clone(),
            owner: r.sender,
            path,
        }
    }
}

/// One entry of the tray menu, from `GetLayout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    /// "separator" for separators, absent for plain items.
    pub kind: Option<String>,
    /// "checkmark" or "radio" for toggles.
    pub toggle_type: Option<String>,
    pub toggle_state: Option<i32>,
}

/// A registered StatusNotifierItem, read over D-Bus.
#[derive(Debug, Clone)]
pub struct TrayItem {
    conn: Connection,
    /// The unique bus name that registered it.
    pub owner: String,
    pub path: String,
}

fn inner<'a>(v: &'a Value<'a>) -> &'a Value<'a> {
    match v {
        Value::Value(boxed) => inner(boxed),
        other => other,
    }
}

fn entry(node: &Value<'_>) -> Option<(MenuEntry, Vec<MenuEntry>)> {
    let Value::Structure(s) = inner(node) else {
        return None;
    };
    let [Value::I32(id), Value::Dict(props), Value::Array(children)] = s.fields() else {
        return None;
    };
    let mut e = MenuEntry {
        id: *id,
        label: String::new(),
        enabled: true,
        kind: None,
        toggle_type: None,
        toggle_state: None,
    };
    for (k, v) in props.iter() {
        let Value::Str(key) = inner(k) else { continue };
        match (key.as_str(), inner(v)) {
            ("label", Value::Str(s)) => e.label = s.to_string(),
            ("enabled", Value::Bool(b)) => e.enabled = *b,
            ("type", Value::Str(s)) => e.kind = Some(s.to_string()),
            ("toggle-type", Value::Str(s)) => e.toggle_type = Some(s.to_string()),
            ("toggle-state", Value::I32(n)) => e.toggle_state = Some(*n),
            _ => {}
        }
    }
    let mut below = Vec::new();
    for child in children.inner() {
        if let Some((c, grandchildren)) = entry(child) {
            below.push(c);
            below.extend(grandchildren);
        }
    }
    Some((e, below))
}

impl TrayItem {
    fn property(&self, name: &str) -> OwnedValue {
        let reply = self
            .conn
            .call_method(
                Some(self.owner.as_str()),
                self.path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(ITEM_IFACE, name),
            )
            .unwrap_or_else(|e| panic!("cannot read the tray item's {name}: {e}"));
        reply
            .body()
            .deserialize()
            .expect("Properties.Get answers a variant")
    }

    fn string(&self, name: &str) -> String {
        match inner(&self.property(name)) {
            Value::Str(s) => s.to_string(),
            Value::ObjectPath(p) => p.to_string(),
            other => panic!("the tray item's {name} is {other:?}, not a string"),
        }
    }

    pub fn id(&self) -> String {
        self.string("Id")
    }

    pub fn status(&self) -> String {
        self.string("Status")
    }

    pub fn title(&self) -> String {
        self.string("Title")
    }

    /// The icon: with tray-icon on Linux, the absolute path of a PNG it wrote.
    pub fn icon_name(&self) -> String {
        self.string("IconName")
    }

    /// The object path of the menu.
    pub fn menu_path(&self) -> String {
        self.string("Menu")
    }

    /// Every entry of the menu, depth first (the root itself left out).
    pub fn menu(&self) -> Vec<MenuEntry> {
        let reply = self
            .conn
            .call_method(
                Some(self.owner.as_str()),
                self.menu_path().as_str(),
                Some(MENU_IFACE),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .unwrap_or_else(|e| panic!("GetLayout failed: {e}"));
        type Layout = (u32, (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>));
        let (_revision, (_root, _props, children)): Layout = reply
            .body()
            .deserialize()
            .expect("GetLayout answers (u(ia{sv}av))");
        let mut all = Vec::new();
        for child in &children {
            let (e, below) = entry(child).expect("a menu entry is (ia{sv}av)");
            all.push(e);
            all.extend(below);
        }
        all
    }

    /// The entry whose label is `label`, if the menu has one.
    pub fn find(&self, label: &str) -> Option<MenuEntry> {
        self.menu().into_iter().find(|e| e.label == label)
    }

    /// Waits until the menu satisfies `cond`; fails with the last menu seen.
    pub fn wait_menu(
        &self,
        timeout: Duration,
        what: &str,
        mut cond: impl FnMut(&[MenuEntry]) -> bool,
    ) -> Vec<MenuEntry> {
        let mut last = Vec::new();
        let ok = wait_until(timeout, || {
            last = self.menu();
            cond(&last)
        });
        assert!(
            ok,
            "timed out after {timeout:?} waiting for the tray menu to {what}; it is {last:#?}"
        );
        last
    }

    /// Clicks the entry labelled `label`, as a shell does when the user picks it.
    pub fn click(&self, label: &str) {
        let entry = self
            .find(label)
            .unwrap_or_else(|| panic!("no {label:?} in the tray menu: {:#?}", self.menu()));
        self.conn
            .call_method(
                Some(self.owner.as_str()),
                self.menu_path().as_str(),
                Some(MENU_IFACE),
                "Event",
                &(entry.id, "clicked", Value::I32(0), 0u32),
            )
            .unwrap_or_else(|e| panic!("Event(clicked) on {label:?} failed: {e}"));
    }
}

/// The RGBA pixels of a PNG file (None if it cannot be read or decoded, e.g. mid-write).
pub fn png_pixels(path: &std::path::Path) -> Option<(u32, u32, Vec<u8>)> {
    let bytes = std::fs::read(path).ok()?;
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(
        png::Transformations::normalize_to_color8() | png::Transformations::ALPHA,
    );
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Some((info.width, info.height, buf))
}

/// `icons/tray-<state>.png` of the repository: what the tray shows in that state.
pub fn repo_icon(state: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../icons/tray-{state}.png"))
}

impl TrayItem {
    /// Waits until the item's icon file has the same pixels as `icons/tray-<state>.png`;
    /// returns the IconName it had then.
    pub fn wait_icon(&self, state: &str, timeout: Duration) -> String {
        let want = png_pixels(&repo_icon(state))
            .unwrap_or_else(|| panic!("cannot decode icons/tray-{state}.png"));
        let mut name = String::new();
        let ok = wait_until(timeout, || {
            name = self.icon_name();
            png_pixels(std::path::Path::new(&name)).is_some_and(|got| got == want)
        });
        assert!(
            ok,
            "timed out after {timeout:?} waiting for the tray icon to be tray-{state}.png; IconName is {name:?}"
        );
        name
    }
}
