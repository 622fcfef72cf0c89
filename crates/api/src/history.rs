//! The history of the work over the API: a summary of a window (totals, success and error
//! rate, throughput, run- and wait-time percentiles, per queue and for all), trends (series in
//! steps over a window) and an export of the stored rows as JSON Lines. All are computed from
//! the minute and hour rows of the history (never from the jobs table), so they cost the same
//! with a thousand jobs as with a million.

use crate::{Api, ApiError, schema};
use nightshift_core::metrics::history::{MINUTE_MS, Row, Step, ceil_to, floor_to};
use nightshift_core::metrics::{FailureCause, Histogram, Tally};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// The longest window: a hundred years, so every time computed from it stays representable.
pub const MAX_WINDOW: Duration = Duration::from_secs(100 * 366 * 86400);
/// The most steps a trend has; a finer step asked for is widened to fit.
pub const MAX_POINTS: i64 = 1440;
/// Rows per page of an export (each page is one read).
const EXPORT_PAGE: usize = 1000;

/// `GET /api/metrics/summary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// How far back from now: a duration with a unit ("1h", "24h", "7d"); default 24h. Rounded
    /// up to whole minutes; at most 100 years.
    #[param(schema_with = schema::window)]
    pub window: Option<String>,
    /// One queue; default all.
    #[param(schema_with = schema::queue)]
    pub queue: Option<String>,
}

/// `GET /api/metrics/trends`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// How far back from now, as for the summary; default 24h.
    #[param(schema_with = schema::window)]
    pub window: Option<String>,
    /// The width of each point: default from the window (1h: 1m, 6h: 5m, 24h: 15m, 7d: 2h,
    /// 30d: 6h, longer: 1d). Rounded up to whole minutes, and widened so there are at most
    /// 1,440 points.
    #[param(schema_with = schema::window)]
    pub step: Option<String>,
    /// One queue; default every queue, each its own series.
    #[param(schema_with = schema::queue)]
    pub queue: Option<String>,
}

/// Which rows an export reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// One row per queue per minute (kept `metrics.minutes_kept`).
    #[default]
    Minute,
    /// One row per queue per hour (kept `metrics.hours_kept`).
    Hour,
}

/// `GET /api/metrics/history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Rows from this time on (Unix ms); default 24 hours ago.
    #[param(schema_with = schema::time_ms)]
    pub since: Option<i64>,
    /// `minute` (default) or `hour` rows. Inline: a schema used only by a parameter is not
    /// collected into the description's components, so a `$ref` to it would dangle.
    #[param(inline)]
    pub resolution: Option<Resolution>,
    /// One queue; default all.
    #[param(schema_with = schema::queue)]
    pub queue: Option<String>,
}

/// Percentiles of a distribution of durations, from mergeable buckets: each is at most 19%
/// above the true value and never below it, and never above the largest seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    pub mean_ms: Option<f64>,
    pub max_ms: Option<u64>,
}

impl Percentiles {
    fn of(h: &Histogram) -> Percentiles {
        Percentiles {
            count: h.count(),
            p50_ms: h.quantile_ms(0.5),
            p95_ms: h.quantile_ms(0.95),
            p99_ms: h.quantile_ms(0.99),
            mean_ms: h.mean_ms(),
            max_ms: (!h.is_empty()).then(|| h.max_ms()),
        }
    }
}

/// What one queue (or all) did over a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueSummary {
    /// The queue; absent for the sum of all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    pub added: u64,
    /// Attempts started.
    pub started: u64,
    /// Jobs that succeeded, failed for good, and were cancelled.
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Attempts that failed and sent their job back for another.
    pub retried: u64,
    /// Failed attempts by cause: exit_code, signal, timeout, spawn_failed, interrupted.
    pub failures: BTreeMap<String, u64>,
    /// Succeeded out of succeeded and failed (0 to 1); absent when neither happened.
    pub success_rate: Option<f64>,
    /// Failed out of succeeded and failed (0 to 1); absent when neither happened.
    pub error_rate: Option<f64>,
    /// Jobs finished per hour of the window that Nightshift was running; absent when it was not.
    pub throughput_per_hour: Option<f64>,
    /// Run time of attempts (start to end).
    pub run: Percentiles,
    /// Wait time of attempts (ready to started).
    pub wait: Percentiles,
}

impl QueueSummary {
    fn of(queue: Option<String>, t: &Tally, covered_minutes: u64) -> QueueSummary {
        let finished = t.finished();
        QueueSummary {
            queue,
            added: t.added,
            started: t.started,
            succeeded: t.succeeded,
            failed: t.failed,
            cancelled: t.cancelled,
            retried: t.retried,
            failures: FailureCause::ALL
                .iter()
                .map(|&c| (c.as_str().to_string(), t.failures(c)))
                .collect(),
            success_rate: t.success_rate(),
            error_rate: t.success_rate().map(|s| 1.0 - s),
            throughput_per_hour: (covered_minutes > 0)
                .then(|| finished as f64 * 60.0 / covered_minutes as f64),
            run: Percentiles::of(&t.run),
            wait: Percentiles::of(&t.wait),
        }
    }
}

/// `GET /api/metrics/summary`: a window's totals, for all queues and for each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricsSummary {
    /// The window, Unix ms: `from` inclusive, `to` (now) exclusive.
    pub from: i64,
    pub to: i64,
    /// Minutes of the window Nightshift was running (the rest are gaps: nothing is known).
    pub covered_minutes: u64,
    pub total: QueueSummary,
    /// Each queue with anything in the window, by name.
    pub queues: Vec<QueueSummary>,
}

/// One queue's series (or all queues' together) in a trend: one value per point, `null` where
/// Nightshift was not running (a gap, not a zero).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Series {
    /// The queue; absent for the sum of all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    pub added: Vec<Option<u64>>,
    pub started: Vec<Option<u64>>,
    pub succeeded: Vec<Option<u64>>,
    pub failed: Vec<Option<u64>>,
    pub cancelled: Vec<Option<u64>>,
    pub retried: Vec<Option<u64>>,
    pub run_p50_ms: Vec<Option<u64>>,
    pub run_p95_ms: Vec<Option<u64>>,
    pub run_p99_ms: Vec<Option<u64>>,
    pub wait_p95_ms: Vec<Option<u64>>,
    /// Mean depth over the point's minutes: ready, waiting for a time, held for power, running.
    pub queued: Vec<Option<f64>>,
    pub scheduled: Vec<Option<f64>>,
    pub held: Vec<Option<f64>>,
    pub running: Vec<Option<f64>>,
    /// Minutes of the point the queue was paused, and held for power.
    pub paused_minutes: Vec<Option<u64>>,
    pub power_held_minutes: Vec<Option<u64>>,
}

impl Series {
    fn push(&mut self, row: Option<&Row>, covered_minutes: u64) {
        if covered_minutes == 0 {
            for v in [
                &mut self.added,
                &mut self.started,
                &mut self.succeeded,
                &mut self.failed,
                &mut self.cancelled,
                &mut self.retried,
                &mut self.run_p50_ms,
                &mut self.run_p95_ms,
                &mut self.run_p99_ms,
                &mut self.wait_p95_ms,
                &mut self.paused_minutes,
                &mut self.power_held_minutes,
            ] {
                v.push(None);
            }
            for v in [
                &mut self.queued,
                &mut self.scheduled,
                &mut self.held,
                &mut self.running,
            ] {
                v.push(None);
            }
            return;
        }
        let empty = Row::default();
        let row = row.unwrap_or(&empty);
        let (t, g) = (&row.tally, &row.gauges);
        self.added.push(Some(t.added));
        self.started.push(Some(t.started));
        self.succeeded.push(Some(t.succeeded));
        self.failed.push(Some(t.failed));
        self.cancelled.push(Some(t.cancelled));
        self.retried.push(Some(t.retried));
        self.run_p50_ms.push(t.run.quantile_ms(0.5));
        self.run_p95_ms.push(t.run.quantile_ms(0.95));
        self.run_p99_ms.push(t.run.quantile_ms(0.99));
        self.wait_p95_ms.push(t.wait.quantile_ms(0.95));
        let mean = |sum: u64| Some(sum as f64 / covered_minutes as f64);
        self.queued.push(mean(g.queued));
        self.scheduled.push(mean(g.scheduled));
        self.held.push(mean(g.held));
        self.running.push(mean(g.running));
        self.paused_minutes.push(Some(g.paused));
        self.power_held_minutes.push(Some(g.power_held));
    }
}

/// `GET /api/metrics/trends`: series over a window in steps, columnar (`at[i]` is the start of
/// every series' `i`th value), ready for a chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trends {
    pub from: i64,
    pub to: i64,
    /// The width of each point, in seconds.
    pub step_seconds: u64,
    /// Each point's start, Unix ms.
    pub at: Vec<i64>,
    /// Minutes of each point Nightshift was running; 0 is a gap.
    pub covered_minutes: Vec<u64>,
    /// All queues together (or the one asked for).
    pub total: Series,
    /// Each queue with anything in the window (none when one queue was asked for).
    pub queues: Vec<Series>,
}

/// A window or step as whole minutes of milliseconds: at least one, at most `MAX_WINDOW`.
fn minutes_of(text: Option<&str>, default: Duration, what: &str) -> Result<i64, ApiError> {
    let d = match text {
        Some(text) => nightshift_core::duration::parse(text)
            .map_err(|e| ApiError::bad_request(format!("{what}: {e}")))?,
        None => default,
    };
    if d > MAX_WINDOW {
        return Err(ApiError::bad_request(format!(
            "{what}: at most 100 years (36600d)"
        )));
    }
    // Within 100 years, so the milliseconds fit an i64 with room to spare.
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    Ok(ceil_to(ms.max(1), MINUTE_MS))
}

/// The default step of a trend over `window` ms: about 60 to 100 points.
fn default_step(window: i64) -> i64 {
    const H: i64 = 60 * MINUTE_MS;
    match window {
        w if w <= H => MINUTE_MS,
        w if w <= 6 * H => 5 * MINUTE_MS,
        w if w <= 24 * H => 15 * MINUTE_MS,
        w if w <= 7 * 24 * H => 2 * H,
        w if w <= 30 * 24 * H => 6 * H,
        _ => 24 * H,
    }
}

const DAY: Duration = Duration::from_secs(86400);

impl Api {
    /// What happened over a window ending now: for all queues and for each.
    pub async fn metrics_summary(&self, q: SummaryQuery) -> Result<MetricsSummary, ApiError> {
        let window = minutes_of(q.window.as_deref(), DAY, "window")?;
        let queue = self.checked_queue(q.queue)?;
        let to = self.engine.now_ms();
        let from = to
            .checked_sub(window)
            .ok_or_else(|| ApiError::bad_request("window: reaches too far back"))?;
        // Up to and including now: the minute under way is counted live.
        let steps = self
            .engine
            .history((from, to.saturating_add(1)), window, 1, queue.as_deref())
            .await?;
        let step = steps.into_iter().next().unwrap_or_default();
        let mut total = Tally::default();
        for row in step.queues.values() {
            total.merge(&row.tally);
        }
        let covered = step.covered_minutes;
        Ok(MetricsSummary {
            from,
            to,
            covered_minutes: covered,
            total: QueueSummary::of(queue.clone(), &total, covered),
            queues: if queue.is_some() {
                Vec::new()
            } else {
                step.queues
                    .into_iter()
                    .filter(|(_, row)| !row.tally.is_empty())
                    .map(|(name, row)| QueueSummary::of(Some(name), &row.tally, covered))
                    .collect()
            },
        })
    }

    /// Series over a window ending now, in steps aligned to the step (so points of two calls
    /// line up), the last one the step under way.
    pub async fn metrics_trends(&self, q: TrendsQuery) -> Result<Trends, ApiError> {
        let window = minutes_of(q.window.as_deref(), DAY, "window")?;
        let asked = match q.step.as_deref() {
            Some(text) => minutes_of(Some(text), DAY, "step")?,
            None => default_step(window),
        };
        // At most MAX_POINTS points: a finer step is widened (to whole minutes).
        let step = asked.max(ceil_to(window.div_euclid(MAX_POINTS).max(1), MINUTE_MS));
        let count = window.div_euclid(step) + i64::from(window % step != 0);
        let queue = self.checked_queue(q.queue)?;
        let now = self.engine.now_ms();
        let to = floor_to(now, step)
            .checked_add(step)
            .ok_or_else(|| ApiError::bad_request("step: too long"))?;
        let from = step
            .checked_mul(count)
            .and_then(|span| to.checked_sub(span))
            .ok_or_else(|| ApiError::bad_request("window: reaches too far back"))?;
        let count = usize::try_from(count).unwrap_or(0);
        let steps = self
            .engine
            .history((from, to), step, count, queue.as_deref())
            .await?;
        Ok(trends_of(steps, from, to, step, queue))
    }

    /// Stored history rows from `since`, a page at a time (see `ExportPages`).
    pub fn metrics_export(&self, q: ExportQuery) -> Result<ExportPages, ApiError> {
        let since = match q.since {
            Some(ms) => nightshift_core::timestamp::check(ms).map_err(ApiError::bad_request)?,
            None => self.engine.now_ms().saturating_sub(86_400_000),
        };
        Ok(ExportPages {
            api: self.clone(),
            since,
            resolution: match q.resolution.unwrap_or_default() {
                Resolution::Minute => nightshift_store::Resolution::Minute,
                Resolution::Hour => nightshift_store::Resolution::Hour,
            },
            queue: self.checked_queue(q.queue)?,
            after: None,
            done: false,
        })
    }

    /// A queue name as given, checked for form (it need not exist: an old queue has history).
    fn checked_queue(&self, queue: Option<String>) -> Result<Option<String>, ApiError> {
        if let Some(name) = &queue {
            nightshift_core::job::validate_queue_name(name)
                .map_err(|e| ApiError::bad_request(e.0))?;
        }
        Ok(queue)
    }
}

fn trends_of(steps: Vec<Step>, from: i64, to: i64, step: i64, queue: Option<String>) -> Trends {
    let names: Vec<String> = if queue.is_some() {
        Vec::new()
    } else {
        let mut names: Vec<String> = steps
            .iter()
            .flat_map(|s| s.queues.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let mut trends = Trends {
        from,
        to,
        step_seconds: u64::try_from(step / 1000).unwrap_or(0),
        total: Series {
            queue,
            ..Series::default()
        },
        queues: names
            .iter()
            .map(|name| Series {
                queue: Some(name.clone()),
                ..Series::default()
            })
            .collect(),
        ..Trends::default()
    };
    for s in &steps {
        trends.at.push(s.at);
        trends.covered_minutes.push(s.covered_minutes);
        let mut all = Row::default();
        for row in s.queues.values() {
            all.merge(row);
        }
        trends.total.push(Some(&all), s.covered_minutes);
        for series in &mut trends.queues {
            let name = series.queue.as_deref().unwrap_or_default();
            series.push(s.queues.get(name), s.covered_minutes);
        }
    }
    trends
}

/// An export in pages: each `next` reads the next rows, in (time, queue) order, until none
/// are left. A row written while the export runs is included if it sorts after the last page.
#[derive(Debug)]
pub struct ExportPages {
    api: Api,
    since: i64,
    resolution: nightshift_store::Resolution,
    queue: Option<String>,
    after: Option<(i64, String)>,
    done: bool,
}

impl ExportPages {
    /// The next page as JSON Lines, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<String>, ApiError> {
        if self.done {
            return Ok(None);
        }
        {
            let rows = self
                .api
                .engine
                .history_page(
                    self.resolution,
                    self.since,
                    self.after.clone(),
                    self.queue.clone(),
                    EXPORT_PAGE,
                )
                .await?;
            self.done = rows.len() < EXPORT_PAGE;
            self.after = rows.last().map(|r| (r.at, r.queue.clone()));
            let mut text = String::new();
            for row in rows {
                let line = serde_json::to_string(&row)
                    .map_err(|e| ApiError::internal(format!("cannot write a history row: {e}")))?;
                text.push_str(&line);
                text.push('\n');
            }
            if text.is_empty() {
                return Ok(None);
            }
            Ok(Some(text))
        }
    }
}
