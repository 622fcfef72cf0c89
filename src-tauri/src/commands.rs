//! IPC commands: each is one call onto the facade (invariant 3). The window may call only
//! these (build.rs lists them; capabilities/default.json allows them).

use nightshift_api::{Api, ApiError, JobDetail, JobPage, JobView, ListQuery, Summary};
use nightshift_core::JobId;
use tauri::State;

type Reply<T> = Result<T, ApiError>;

fn id(raw: i64) -> Reply<JobId> {
    raw.to_string().parse().map_err(ApiError::bad_request)
}

#[tauri::command]
pub async fn list_jobs(api: State<'_, Api>, query: ListQuery) -> Reply<JobPage> {
    api.list(query).await
}

#[tauri::command]
pub async fn show_job(api: State<'_, Api>, id: i64) -> Reply<JobDetail> {
    api.show(self::id(id)?).await
}

#[tauri::command]
pub async fn cancel_job(api: State<'_, Api>, id: i64) -> Reply<JobView> {
    api.cancel(self::id(id)?).await
}

#[tauri::command]
pub async fn retry_job(api: State<'_, Api>, id: i64) -> Reply<JobView> {
    api.retry(self::id(id)?).await
}

#[tauri::command]
pub async fn job_logs(api: State<'_, Api>, id: i64, tail: Option<usize>) -> Reply<String> {
    let bytes = api.logs(self::id(id)?, tail).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[tauri::command]
pub async fn summary(api: State<'_, Api>) -> Reply<Summary> {
    api.summary().await
}

#[tauri::command]
pub async fn pause_all(api: State<'_, Api>) -> Reply<Summary> {
    api.pause_all().await
}

#[tauri::command]
pub async fn resume_all(api: State<'_, Api>) -> Reply<Summary> {
    api.resume_all().await
}
