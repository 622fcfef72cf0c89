//! The tray icon and its menu: live counts, the incident calling for the user (clicking it
//! acknowledges it), Pause all / Resume all, Open Nightshift, Start at login, Quit. On Linux it is a StatusNotifierItem (libayatana-appindicator) whose menu is
//! exported over D-Bus; a tooltip does not exist there, so the menu's first line carries the
//! counts.

use crate::tray_view::{Health, TrayView};
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Wry};

pub const TRAY_ID: &str = "nightshift";
pub const ITEM_COUNTS: &str = "counts";
pub const ITEM_INCIDENT: &str = "incident";
pub const ITEM_PAUSE: &str = "pause";
pub const ITEM_OPEN: &str = "open";
pub const ITEM_AUTOSTART: &str = "autostart";
pub const ITEM_QUIT: &str = "quit";

fn icon_bytes(health: Health) -> &'static [u8] {
    match health {
        Health::Attention => include_bytes!("../../icons/tray-attention.png"),
        Health::Paused => include_bytes!("../../icons/tray-paused.png"),
        Health::WaitingForPower => include_bytes!("../../icons/tray-waiting.png"),
        Health::Running => include_bytes!("../../icons/tray-running.png"),
        Health::Idle => include_bytes!("../../icons/tray-idle.png"),
    }
}

/// The live tray: its items are updated in place (Linux cannot replace a menu once shown).
pub struct Tray {
    icon: TrayIcon,
    counts: MenuItem<Wry>,
    incident: MenuItem<Wry>,
    pause: MenuItem<Wry>,
    pub autostart: CheckMenuItem<Wry>,
    icons: HashMap<Health, Image<'static>>,
    shown: Mutex<Option<TrayView>>,
}

impl Tray {
    pub fn build(app: &AppHandle, autostart_on: bool) -> tauri::Result<Tray> {
        let counts = MenuItem::with_id(app, ITEM_COUNTS, "Starting…", false, None::<&str>)?;
        let incident = MenuItem::with_id(
            app,
            ITEM_INCIDENT,
            crate::tray_view::NO_INCIDENT,
            false,
            None::<&str>,
        )?;
        let pause = MenuItem::with_id(app, ITEM_PAUSE, "Pause all", true, None::<&str>)?;
        let open = MenuItem::with_id(app, ITEM_OPEN, "Open Nightshift", true, None::<&str>)?;
        let autostart = CheckMenuItem::with_id(
            app,
            ITEM_AUTOSTART,
            "Start at login",
            true,
            autostart_on,
            None::<&str>,
        )?;
        // A plain item: GTK cannot show the predefined Quit item.
        let quit = MenuItem::with_id(app, ITEM_QUIT, "Quit Nightshift", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[
                &counts,
                &incident,
                &PredefinedMenuItem::separator(app)?,
                &pause,
                &open,
                &autostart,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let mut icons = HashMap::new();
        for health in Health::ALL {
            icons.insert(health, Image::from_bytes(icon_bytes(health))?);
        }
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(icons[&Health::Idle].clone())
            .tooltip("Nightshift")
            .menu(&menu)
            .on_menu_event(|app, event| crate::app::on_menu(app, event.id().as_ref()))
            .build(app)?;
        Ok(Tray {
            icon,
            counts,
            incident,
            pause,
            autostart,
            icons,
            shown: Mutex::new(None),
        })
    }

    /// The incident the menu's incident line acknowledges, if any.
    pub fn incident(&self) -> Option<i64> {
        self.shown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|v| v.incident)
    }

    /// Shows `view`, touching only what changed (each icon change writes a file on Linux).
    pub fn show(&self, view: TrayView) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        let old = shown.as_ref();
        let result = (|| -> tauri::Result<()> {
            if old.map(|o| o.health) != Some(view.health) {
                self.icon.set_icon(Some(self.icons[&view.health].clone()))?;
            }
            if old.map(|o| &o.counts) != Some(&view.counts) {
                self.counts.set_text(&view.counts)?;
            }
            if old.map(|o| &o.tooltip) != Some(&view.tooltip) {
                self.icon.set_tooltip(Some(&view.tooltip))?;
            }
            if old.map(|o| &o.incident_label) != Some(&view.incident_label) {
                self.incident.set_text(&view.incident_label)?;
                self.incident.set_enabled(view.incident.is_some())?;
            }
            if old.map(|o| o.pause_label) != Some(view.pause_label) {
                self.pause.set_text(view.pause_label)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => *shown = Some(view),
            Err(e) => tracing::warn!(error = %e, "cannot update the tray"),
        }
    }
}
