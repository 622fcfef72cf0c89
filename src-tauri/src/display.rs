//! Refusing to start without a display, with a message instead of a GTK panic.

/// Checks that a display can be opened. GTK would otherwise panic deep inside Tauri's builder.
pub fn check() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let x11 = std::env::var_os("DISPLAY").filter(|v| !v.is_empty());
        let wayland = std::env::var_os("WAYLAND_DISPLAY").filter(|v| !v.is_empty());
        if x11.is_none() && wayland.is_none() {
            return Err(advice(
                "there is no display here (DISPLAY and WAYLAND_DISPLAY are not set)",
            ));
        }
        // Opens the display now; Tauri's own later call is then a no-op.
        if let Err(e) = gtk::init() {
            return Err(advice(&format!("cannot open the display: {e}")));
        }
    }
    Ok(())
}

fn advice(problem: &str) -> String {
    format!(
        "The Nightshift desktop app needs a display, but {problem}.\n\
         Without one, run the headless engine instead: `nightshift daemon` runs the same engine \
         and local API without the tray, and every `nightshift` command works against it."
    )
}
