//! What `top` shows, read from the API in one go: queues with their depth, limit, rates and
//! p95 over the last 15 minutes; running jobs with their elapsed time, CPU and memory; power;
//! the last failures. Plain data, so the view renders it the same on a terminal and as text.

use crate::client::{Client, ClientError};
use nightshift_api::{JobPage, MetricsSummary, PowerView, QueueView, Summary};
use nightshift_core::{JobId, JobState};

/// The window of the rates and percentiles.
pub const WINDOW: &str = "15m";
const WINDOW_MINUTES: f64 = 15.0;
/// The last failures shown.
const FAILURES: u32 = 5;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// When it was read, Unix ms (elapsed times are computed from it).
    pub now_ms: i64,
    pub power: String,
    pub paused: bool,
    pub problems: Vec<String>,
    pub queued: u64,
    pub running_count: usize,
    pub success_rate: Option<f64>,
    pub p95_ms: Option<u64>,
    pub queues: Vec<QueueLine>,
    pub running: Vec<RunningLine>,
    pub failures: Vec<FailureLine>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueLine {
    pub name: String,
    pub queued: u64,
    pub running: u64,
    pub limit: u32,
    pub paused: bool,
    /// Why power holds it, if it does.
    pub held: Option<String>,
    /// Jobs finished per minute over the window.
    pub per_minute: f64,
    pub failed: u64,
    pub p95_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunningLine {
    pub id: JobId,
    pub queue: String,
    pub command: String,
    pub started_at: Option<i64>,
    pub cpu_percent: Option<f64>,
    pub rss_bytes: Option<u64>,
    /// Paused for power: why.
    pub paused: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailureLine {
    pub id: JobId,
    pub queue: String,
    pub command: String,
    pub finished_at: Option<i64>,
    /// The reason, or the exit code or signal.
    pub why: String,
}

impl Model {
    pub fn read(client: &Client) -> Result<Model, ClientError> {
        let summary: Summary = client.get("/api/summary")?;
        let queues: Vec<QueueView> = client.get("/api/queues")?;
        let power: PowerView = client.get("/api/power")?;
        let metrics: MetricsSummary =
            client.get(&format!("/api/metrics/summary?window={WINDOW}"))?;
        let running: JobPage = client.get("/api/jobs?state=running&limit=200")?;
        let failed: JobPage = client.get(&format!("/api/jobs?state=failed&limit={FAILURES}"))?;
        Ok(Model::of(
            crate::format::now_ms(),
            &summary,
            &queues,
            &power,
            &metrics,
            &running,
            &failed,
        ))
    }

    fn of(
        now_ms: i64,
        summary: &Summary,
        queues: &[QueueView],
        power: &PowerView,
        metrics: &MetricsSummary,
        running: &JobPage,
        failed: &JobPage,
    ) -> Model {
        let count = |q: &QueueView, s: JobState| q.counts.get(&s).copied().unwrap_or(0);
        Model {
            now_ms,
            power: power.description.clone(),
            paused: summary.paused,
            problems: summary.problems.clone(),
            queued: summary.counts.get(&JobState::Queued).copied().unwrap_or(0),
            running_count: summary.running,
            success_rate: metrics.total.success_rate,
            p95_ms: metrics.total.run.p95_ms,
            queues: queues
                .iter()
                .map(|q| {
                    let m = metrics
                        .queues
                        .iter()
                        .find(|m| m.queue.as_deref() == Some(q.name.as_str()));
                    QueueLine {
                        name: q.name.clone(),
                        queued: count(q, JobState::Queued),
                        running: count(q, JobState::Running),
                        limit: q.concurrency,
                        paused: q.paused,
                        held: power.holding.get(&q.name).cloned(),
                        per_minute: m.map_or(0.0, |m| {
                            (m.succeeded + m.failed + m.cancelled) as f64 / WINDOW_MINUTES
                        }),
                        failed: m.map_or(0, |m| m.failed),
                        p95_ms: m.and_then(|m| m.run.p95_ms),
                    }
                })
                .collect(),
            running: running
                .jobs
                .iter()
                .map(|v| RunningLine {
                    id: v.job.id,
                    queue: v.job.spec.queue.clone(),
                    command: v.command.clone(),
                    started_at: v.job.started_at,
                    cpu_percent: v.usage.and_then(|u| u.cpu_percent),
                    rss_bytes: v.usage.map(|u| u.rss_bytes),
                    paused: power.paused.get(&v.job.id).cloned(),
                })
                .collect(),
            failures: failed
                .jobs
                .iter()
                .map(|v| FailureLine {
                    id: v.job.id,
                    queue: v.job.spec.queue.clone(),
                    command: v.command.clone(),
                    finished_at: v.job.finished_at,
                    why: v.job.reason.clone().unwrap_or_else(|| {
                        match (v.job.exit_code, v.job.signal) {
                            (Some(code), _) => format!("exit {code}"),
                            (None, Some(signal)) => format!("signal {signal}"),
                            _ => "failed".into(),
                        }
                    }),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A model as a busy machine would show it, for the view's tests.
    pub(crate) fn sample() -> Model {
        Model {
            now_ms: 1_000_000,
            power: "on battery, 42%".into(),
            paused: false,
            problems: Vec::new(),
            queued: 7,
            running_count: 2,
            success_rate: Some(0.981),
            p95_ms: Some(3400),
            queues: vec![
                QueueLine {
                    name: "encode".into(),
                    queued: 6,
                    running: 2,
                    limit: 2,
                    per_minute: 1.5,
                    failed: 1,
                    p95_ms: Some(3400),
                    ..QueueLine::default()
                },
                QueueLine {
                    name: "render".into(),
                    queued: 1,
                    limit: 1,
                    held: Some("on battery; the queue waits for AC power".into()),
                    ..QueueLine::default()
                },
            ],
            running: vec![RunningLine {
                id: JobId(42),
                queue: "encode".into(),
                command: "ffmpeg -i a.mov a.mp4".into(),
                started_at: Some(1_000_000 - 75_000),
                cpu_percent: Some(187.0),
                rss_bytes: Some(300 << 20),
                paused: None,
            }],
            failures: vec![FailureLine {
                id: JobId(40),
                queue: "encode".into(),
                command: "ffmpeg -i broken.mov".into(),
                finished_at: Some(1_000_000 - 30_000),
                why: "exit 1".into(),
            }],
        }
    }
}
