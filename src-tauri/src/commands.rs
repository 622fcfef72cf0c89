//! IPC commands: each is one call onto the facade (invariant 3): in the tray app's own window
//! directly, in a window process through the local API (`remote.rs`). The window may call
//! only these (build.rs lists them; capabilities/default.json allows them).

use crate::remote::Remote;
use nightshift_api::{Api, ApiError, JobDetail, JobPage, JobView, ListQuery, Summary};
use nightshift_core::JobId;
use tauri::State;

type Reply<T> = Result<T, ApiError>;

/// Where the commands of this process go.
pub enum Backend {
    /// The facade in this process (the tray app).
    Local(Api),
    /// The tray app's facade, through its local API (a window process).
    Remote(Remote),
}

/// The handler of every command, for both kinds of process.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        list_jobs, show_job, cancel_job, retry_job, job_logs, summary, pause_all, resume_all,
    ]
}

fn id(raw: i64) -> Reply<JobId> {
    raw.to_string().parse().map_err(ApiError::bad_request)
}

#[tauri::command]
pub async fn list_jobs(backend: State<'_, Backend>, query: ListQuery) -> Reply<JobPage> {
    match backend.inner() {
        Backend::Local(api) => api.list(query).await,
        Backend::Remote(remote) => remote.list(query).await,
    }
}

#[tauri::command]
pub async fn show_job(backend: State<'_, Backend>, id: i64) -> Reply<JobDetail> {
    match backend.inner() {
        Backend::Local(api) => api.show(self::id(id)?).await,
        Backend::Remote(remote) => remote.show(self::id(id)?.0).await,
    }
}

#[tauri::command]
pub async fn cancel_job(backend: State<'_, Backend>, id: i64) -> Reply<JobView> {
    match backend.inner() {
        Backend::Local(api) => api.cancel(self::id(id)?).await,
        Backend::Remote(remote) => remote.cancel(self::id(id)?.0).await,
    }
}

#[tauri::command]
pub async fn retry_job(backend: State<'_, Backend>, id: i64) -> Reply<JobView> {
    match backend.inner() {
        Backend::Local(api) => api.retry(self::id(id)?).await,
        Backend::Remote(remote) => remote.retry(self::id(id)?.0).await,
    }
}

#[tauri::command]
pub async fn job_logs(backend: State<'_, Backend>, id: i64, tail: Option<usize>) -> Reply<String> {
    match backend.inner() {
        Backend::Local(api) => {
            let bytes = api.logs(self::id(id)?, tail).await?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Backend::Remote(remote) => remote.logs(self::id(id)?.0, tail).await,
    }
}

#[tauri::command]
pub async fn summary(backend: State<'_, Backend>) -> Reply<Summary> {
    match backend.inner() {
        Backend::Local(api) => api.summary().await,
        Backend::Remote(remote) => remote.summary().await,
    }
}

#[tauri::command]
pub async fn pause_all(backend: State<'_, Backend>) -> Reply<Summary> {
    match backend.inner() {
        Backend::Local(api) => api.pause_all().await,
        Backend::Remote(remote) => remote.set_paused(true).await,
    }
}

#[tauri::command]
pub async fn resume_all(backend: State<'_, Backend>) -> Reply<Summary> {
    match backend.inner() {
        Backend::Local(api) => api.resume_all().await,
        Backend::Remote(remote) => remote.set_paused(false).await,
    }
}
