//! A bare Tauri 2 app with a tray icon and no window, built from the same dependencies as the
//! desktop app: the baseline its tray-only memory is measured against (`cargo xtask bench`).

fn main() {
    let app = tauri::Builder::default()
        .setup(|app| {
            let quit = tauri::menu::MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
            let menu = tauri::menu::Menu::with_items(app, &[&quit])?;
            tauri::tray::TrayIconBuilder::with_id("bare")
                .icon(tauri::image::Image::from_bytes(include_bytes!(
                    "../../../icons/tray-idle.png"
                ))?)
                .menu(&menu)
                .on_menu_event(|app, _| app.exit(0))
                .build(app)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("bare tray app");
    app.run(|_, event| {
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}
