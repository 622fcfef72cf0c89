//! Tauri's build step. The app has no IPC commands: its window shows the daemon's page over
//! HTTP (src/page.rs), and a page from that origin is granted no capability.

fn main() {
    tauri_build::build();
}
