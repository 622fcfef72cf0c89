//! The report of a window (24 hours by default), as the source documents' daily report: the
//! summary of the window (totals, rates, percentiles per queue), jobs finished per hour, the
//! commands that failed most with their last error lines, the slowest jobs, time held for
//! power, and Nightshift's own starts and recoveries. The counts come from the metrics
//! history; the failing commands and the slowest jobs from the jobs that finished in the window.

use crate::history::{MetricsSummary, SummaryQuery};
use crate::{Api, ApiError};
use nightshift_core::metrics::history::{HOUR_MS, MINUTE_MS, floor_to};
use nightshift_core::{JobId, JobState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The longest report: 90 days, the hours the history keeps by default.
pub const MAX_REPORT_HOURS: u32 = 24 * 90;
/// Commands and jobs listed in each of the report's tables.
const TOP: usize = 10;
/// Lines of output kept from each failing command's last job.
const ERROR_LINES: usize = 5;

/// `GET /api/report`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Hours back from now, 1 to 2160 (90 days); default 24.
    #[param(minimum = 1, maximum = 2160)]
    pub hours: Option<u32>,
}

/// Jobs finished in one hour of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HourCount {
    /// The hour's start, Unix ms.
    pub at: i64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Minutes of the hour Nightshift was running (0: a gap).
    pub covered_minutes: u64,
}

/// A command whose jobs failed in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FailingCommand {
    pub command: String,
    pub queue: String,
    /// Its jobs that failed (out of attempts) in the window.
    pub failures: u64,
    /// The newest of them, when it failed, and why.
    pub last_job: JobId,
    pub last_failed_at: Option<i64>,
    pub last_reason: Option<String>,
    pub last_exit_code: Option<i32>,
    pub last_signal: Option<i32>,
    /// The last lines of its output.
    pub last_lines: Vec<String>,
}

/// One of the jobs that ran longest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlowJob {
    pub id: JobId,
    pub queue: String,
    pub command: String,
    pub state: JobState,
    /// From its last start to its end.
    pub run_ms: u64,
    pub finished_at: Option<i64>,
}

/// `GET /api/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub hours: u32,
    /// When it was made, Unix ms.
    pub generated_at: i64,
    /// The window's totals, rates and percentiles, for all queues and for each.
    pub summary: MetricsSummary,
    /// Jobs finished in each hour of the window, oldest first.
    pub hourly: Vec<HourCount>,
    /// The commands that failed most, with their last error lines.
    pub failing_commands: Vec<FailingCommand>,
    /// The jobs that ran longest.
    pub slowest: Vec<SlowJob>,
    /// Minutes each queue was held for power (only queues that were).
    pub power_held_minutes: BTreeMap<String, u64>,
    /// Times Nightshift started in the window.
    pub starts: u64,
    /// Attempts found interrupted (Nightshift stopped under them) in the window.
    pub interrupted_attempts: u64,
    /// Minutes of the window Nightshift was not running.
    pub gap_minutes: u64,
}

impl Api {
    /// The report of the last `hours` hours.
    pub async fn report(&self, q: ReportQuery) -> Result<Report, ApiError> {
        let hours = q.hours.unwrap_or(24);
        if !(1..=MAX_REPORT_HOURS).contains(&hours) {
            return Err(ApiError::bad_request(format!(
                "hours: from 1 to {MAX_REPORT_HOURS} (90 days), not {hours}"
            )));
        }
        let now = self.engine.now_ms();
        let window_ms = i64::from(hours) * HOUR_MS;
        let since = now.saturating_sub(window_ms);
        let summary = self
            .metrics_summary(SummaryQuery {
                window: Some(format!("{hours}h")),
                queue: None,
            })
            .await?;

        // Whole hours, the last the one under way.
        let to = floor_to(now, HOUR_MS).saturating_add(HOUR_MS);
        let count = usize::try_from(hours).unwrap_or(24);
        let from = to.saturating_sub(window_ms);
        let steps = self
            .engine
            .history((from, to), HOUR_MS, count, None)
            .await?;
        let mut power_held_minutes: BTreeMap<String, u64> = BTreeMap::new();
        let mut interrupted_attempts = 0u64;
        let hourly = steps
            .iter()
            .map(|s| {
                let mut hour = HourCount {
                    at: s.at,
                    covered_minutes: s.covered_minutes,
                    ..HourCount::default()
                };
                for (queue, row) in &s.queues {
                    hour.succeeded += row.tally.succeeded;
                    hour.failed += row.tally.failed;
                    hour.cancelled += row.tally.cancelled;
                    interrupted_attempts += row.tally.interrupted;
                    if row.gauges.power_held > 0 {
                        *power_held_minutes.entry(queue.clone()).or_default() +=
                            row.gauges.power_held;
                    }
                }
                hour
            })
            .collect();

        let spans = self.engine.history_spans(since, now).await?;
        let mut starts = spans.iter().filter(|(first, _)| *first >= since).count() as u64;
        // This run's first minute is stored at its end: until then it is counted here.
        let started =
            now.saturating_sub(i64::try_from(self.engine.uptime().as_millis()).unwrap_or(i64::MAX));
        let started_minute = floor_to(started, MINUTE_MS);
        if started >= since && !spans.iter().any(|&(_, last)| last >= started_minute) {
            starts += 1;
        }
        let window_minutes = u64::try_from(window_ms / MINUTE_MS).unwrap_or(0);
        let gap_minutes = window_minutes.saturating_sub(summary.covered_minutes);

        let mut failing_commands = Vec::new();
        for (failures, id) in self.engine.report_failed_commands(since, TOP).await? {
            let Some(job) = self.engine.job(id).await? else {
                continue;
            };
            let log = self.logs(id, Some(ERROR_LINES)).await.unwrap_or_default();
            failing_commands.push(FailingCommand {
                command: job.spec.display_command(),
                queue: job.spec.queue.clone(),
                failures,
                last_job: id,
                last_failed_at: job.finished_at,
                last_reason: job.reason.clone(),
                last_exit_code: job.exit_code,
                last_signal: job.signal,
                last_lines: String::from_utf8_lossy(&log)
                    .lines()
                    .map(str::to_string)
                    .collect(),
            });
        }
        let mut slowest = Vec::new();
        for (id, run_ms) in self.engine.report_slowest(since, TOP).await? {
            if let Some(job) = self.engine.job(id).await? {
                slowest.push(SlowJob {
                    id,
                    queue: job.spec.queue.clone(),
                    command: job.spec.display_command(),
                    state: job.state,
                    run_ms,
                    finished_at: job.finished_at,
                });
            }
        }
        Ok(Report {
            hours,
            generated_at: now,
            summary,
            hourly,
            failing_commands,
            slowest,
            power_held_minutes,
            starts,
            interrupted_attempts,
            gap_minutes,
        })
    }
}
