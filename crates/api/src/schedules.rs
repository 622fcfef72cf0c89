//! Recurring jobs through the facade: create (from an interval or a cron expression and a job
//! like an enqueue's), list, pause, resume, run now, remove.

use crate::Api;
use crate::dto::{DurationValue, Enqueued, ScheduleRequest, ScheduleView};
use crate::error::ApiError;
use nightshift_core::recurrence::Recurrence;
use nightshift_store::ScheduleRow;

impl Api {
    /// Creates a recurring job; the name is new, the job is checked as an enqueue would be.
    pub async fn add_schedule(&self, request: ScheduleRequest) -> Result<ScheduleView, ApiError> {
        let ScheduleRequest {
            name,
            every,
            cron,
            catch_up,
            job,
        } = request;
        let recurrence = match (every, cron) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request("give either every or cron, not both"));
            }
            (None, None) => {
                return Err(ApiError::bad_request(
                    "give every (an interval such as \"1h\") or cron (such as \"30 2 * * *\")",
                ));
            }
            (Some(DurationValue::Human(text)), None) => Recurrence::every(&text),
            (Some(DurationValue::Millis(ms)), None) => Recurrence::every_millis(ms),
            (None, Some(expr)) => Recurrence::cron(&expr),
        }
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if !job.after.is_empty() {
            return Err(ApiError::bad_request(
                "a recurring job cannot run after other jobs (after): each run would wait on \
                 the same ones",
            ));
        }
        if job.unique.is_some() {
            return Err(ApiError::bad_request(
                "a recurring job's runs already share a key (schedule:NAME); leave unique out",
            ));
        }
        let now = self.engine.now_ms();
        let prepared = self.prepare(job, now)?;
        crate::enqueue::check_working_dirs(std::slice::from_ref(&prepared)).await?;
        // A start time given with the job (run_at, delay) is the schedule's first run.
        let start = prepared.run_at;
        let name = match name {
            Some(name) => name,
            None => self.free_name(&prepared.spec.program).await?,
        };
        let row = self
            .engine
            .add_schedule(&name, &recurrence, prepared, catch_up, start)
            .await?;
        self.schedule_view(row, Some(&recurrence)).await
    }

    /// Every schedule, by name.
    pub async fn schedules(&self) -> Result<Vec<ScheduleView>, ApiError> {
        let mut views = Vec::new();
        for row in self.engine.schedules().await? {
            views.push(self.schedule_view(row, None).await?);
        }
        Ok(views)
    }

    pub async fn remove_schedule(&self, name: &str) -> Result<(), ApiError> {
        Ok(self.engine.remove_schedule(name).await?)
    }

    /// Pauses (or resumes, from its next time after now) a schedule.
    pub async fn pause_schedule(&self, name: &str, paused: bool) -> Result<ScheduleView, ApiError> {
        let row = self.engine.set_schedule_paused(name, paused).await?;
        self.schedule_view(row, None).await
    }

    /// Adds one run now (or returns the one still queued or running).
    pub async fn run_schedule(&self, name: &str) -> Result<Enqueued, ApiError> {
        let run = self.engine.run_schedule(name).await?;
        Ok(Enqueued {
            id: run.id,
            existing: run.existing,
        })
    }

    /// A name from the program ("backup", then "backup-2", …) that no schedule has yet.
    async fn free_name(&self, program: &str) -> Result<String, ApiError> {
        let base: String = std::path::Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .take(50)
            .collect();
        let base = if base.is_empty() {
            "schedule".to_string()
        } else {
            base
        };
        let taken: Vec<String> = self
            .engine
            .schedules()
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        Ok((1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|name| !taken.contains(name))
            .expect("some suffix is free"))
    }

    async fn schedule_view(
        &self,
        row: ScheduleRow,
        recurrence: Option<&Recurrence>,
    ) -> Result<ScheduleView, ApiError> {
        let recurrence = match recurrence {
            Some(r) => r.to_string(),
            None => Recurrence::from_text(&row.recurrence)
                .map(|r| r.to_string())
                .unwrap_or_else(|e| format!("unreadable: {e}")),
        };
        let last_state = match row.last_job {
            Some(id) => self.engine.job(id).await?.map(|j| j.state),
            None => None,
        };
        Ok(ScheduleView {
            name: row.name,
            recurrence,
            catch_up: row.catch_up,
            paused: row.paused,
            next_run: row.next_due.filter(|_| !row.paused),
            last_run: row.last_run,
            last_job: row.last_job,
            last_state,
            command: row.job.display_command(),
            queue: row.job.queue,
            created_at: row.created_at,
        })
    }
}
