//! Tauri's build step, with an app manifest that lists our IPC commands: with it, a window may
//! call only the commands its capability allows (capabilities/default.json), nothing else.

fn main() {
    let commands = &[
        "list_jobs",
        "show_job",
        "cancel_job",
        "retry_job",
        "job_logs",
        "summary",
        "pause_all",
        "resume_all",
    ];
    let manifest = tauri_build::AppManifest::new().commands(commands);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step");
}
