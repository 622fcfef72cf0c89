//! `/metrics`: everything Nightshift counts, in the Prometheus text format (0.0.4) or
//! OpenMetrics, encoded by the prometheus-client crate from one snapshot taken per scrape.
//!
//! Names follow Prometheus' conventions: a `nightshift_` prefix, base units (seconds, bytes,
//! ratios), `_total` on counters. Labels are bounded: `queue` (the user's queue names),
//! `state`, `outcome` and `cause` (fixed sets); never a job id or a command. Every family is
//! described in docs/metrics.md. Counters start from zero when Nightshift starts, as
//! Prometheus' `rate()` and `increase()` expect.

use crate::{Api, ApiError, QueueView};
use nightshift_core::metrics::FailureCause;
use nightshift_core::metrics::history::Gauges;
use nightshift_engine::SelfStats;
use nightshift_engine::metrics::QueueTotals;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeMap;

/// The two formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// `text/plain; version=0.0.4`, what Prometheus asks for by default.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl MetricsFormat {
    /// The format an `Accept` header asks for: OpenMetrics when it names it, else Prometheus'.
    pub fn from_accept(accept: Option<&str>) -> MetricsFormat {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => MetricsFormat::OpenMetrics,
            _ => MetricsFormat::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MetricsFormat::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            MetricsFormat::OpenMetrics => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
        }
    }
}

/// Everything one scrape shows, read before encoding.
#[derive(Debug)]
struct Snapshot {
    queues: Vec<QueueView>,
    depths: BTreeMap<String, Gauges>,
    totals: BTreeMap<String, QueueTotals>,
    paused_for_power: BTreeMap<String, u64>,
    held_for_power: Vec<String>,
    on_ac: bool,
    battery_percent: Option<f32>,
    all_paused: bool,
    unclean_start: bool,
    stats: SelfStats,
    pools: Vec<crate::PoolView>,
    /// Open incidents, and every rule (so each rule's series is there at 0).
    incidents: Vec<nightshift_core::incident::Incident>,
    rules: Vec<nightshift_core::incident::Rule>,
}

impl Api {
    /// The metrics as `format` text.
    pub async fn metrics_text(&self, format: MetricsFormat) -> Result<String, ApiError> {
        let power = self.engine.power();
        let mut paused_for_power: BTreeMap<String, u64> = BTreeMap::new();
        for paused in self.engine.power_paused().into_values() {
            *paused_for_power.entry(paused.queue).or_default() += 1;
        }
        let recovery = self.engine.recovery();
        let snapshot = Snapshot {
            queues: self.queues().await?,
            depths: self.engine.queue_gauges().await?,
            totals: self.engine.metrics().totals(),
            paused_for_power,
            held_for_power: self.engine.power_holds().into_keys().collect(),
            on_ac: power.on_ac,
            battery_percent: power.battery_percent,
            all_paused: self.engine.is_paused(),
            unclean_start: !recovery.requeued.is_empty() || !recovery.failed.is_empty(),
            stats: self.engine.self_stats().await,
            pools: self.engine.pools(),
            incidents: self.engine.open_incidents().await,
            rules: self
                .engine
                .incident_rules()
                .into_iter()
                .map(|r| r.rule)
                .collect(),
        };
        let mut registry = Registry::with_prefix("nightshift");
        registry.register_collector(Box::new(snapshot));
        let mut text = String::new();
        let encoded = match format {
            MetricsFormat::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            }
            MetricsFormat::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut text, &registry)
            }
        };
        encoded.map_err(|_| ApiError::internal("cannot encode the metrics"))?;
        Ok(text)
    }
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

/// One family: its samples, each with its labels.
fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    kind: MetricType,
    samples: Vec<(Labels<'_>, M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
    for (labels, value) in samples {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counter(n: u64) -> ConstCounter<u64> {
    ConstCounter::new(n)
}

fn gauge(n: i64) -> ConstGauge<i64> {
    ConstGauge::new(n)
}

fn flag(b: bool) -> ConstGauge<i64> {
    ConstGauge::new(i64::from(b))
}

fn count(n: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let names: Vec<&str> = {
            let mut names: Vec<&str> = self.queues.iter().map(|q| q.name.as_str()).collect();
            names.extend(self.totals.keys().map(String::as_str));
            names.sort_unstable();
            names.dedup();
            names
        };
        let empty = QueueTotals::default();
        let totals = |q: &str| self.totals.get(q).unwrap_or(&empty);
        let per_queue = |f: &dyn Fn(&QueueTotals) -> u64| -> Vec<(Labels, ConstCounter<u64>)> {
            names
                .iter()
                .map(|&q| (vec![("queue", q)], counter(f(totals(q)))))
                .collect()
        };
        family(
            &mut e,
            "jobs_added",
            "Jobs added (a unique key that matched an existing job adds none).",
            None,
            MetricType::Counter,
            per_queue(&|t| t.counts.added),
        )?;
        family(
            &mut e,
            "attempts_started",
            "Attempts started: a job's process group running with its identity stored.",
            None,
            MetricType::Counter,
            per_queue(&|t| t.counts.started),
        )?;
        let mut finished = Vec::new();
        for &q in &names {
            let t = &totals(q).counts;
            for (outcome, n) in [
                ("succeeded", t.succeeded),
                ("failed", t.failed),
                ("cancelled", t.cancelled),
            ] {
                finished.push((vec![("queue", q), ("outcome", outcome)], counter(n)));
            }
        }
        family(
            &mut e,
            "jobs_finished",
            "Jobs that reached a final state, by that state (failed: out of attempts).",
            None,
            MetricType::Counter,
            finished,
        )?;
        family(
            &mut e,
            "jobs_retried",
            "Failed attempts whose job went back to its queue for another attempt.",
            None,
            MetricType::Counter,
            per_queue(&|t| t.counts.retried),
        )?;
        let mut failures = Vec::new();
        for &q in &names {
            for cause in FailureCause::ALL {
                failures.push((
                    vec![("queue", q), ("cause", cause.as_str())],
                    counter(totals(q).counts.failures(cause)),
                ));
            }
        }
        family(
            &mut e,
            "attempt_failures",
            "Attempts that failed, retried or not, by cause: exit_code, signal, timeout, spawn_failed, interrupted.",
            None,
            MetricType::Counter,
            failures,
        )?;
        for (name, help, pick) in [
            (
                "attempt_run",
                "How long attempts ran, from start to end.",
                (|t: &QueueTotals| &t.run)
                    as fn(&QueueTotals) -> &nightshift_engine::metrics::FixedHistogram,
            ),
            (
                "job_wait",
                "How long jobs waited from ready (added, due, released or retried) to started.",
                |t: &QueueTotals| &t.wait,
            ),
        ] {
            let mut metric =
                e.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
            for &q in &names {
                let h = pick(totals(q));
                let labels: Labels = vec![("queue", q)];
                metric
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        h.sum_seconds,
                        h.count,
                        &h.cumulative(),
                        None,
                    )?;
            }
        }
        let mut depth = Vec::new();
        let none = Gauges::default();
        for q in &self.queues {
            let g = self.depths.get(&q.name).unwrap_or(&none);
            let paused = self.paused_for_power.get(&q.name).copied().unwrap_or(0);
            let name = q.name.as_str();
            for (state, n) in [
                ("queued", g.queued),
                ("scheduled", g.scheduled),
                ("held", g.held),
                ("running", g.running.saturating_sub(paused)),
                ("paused_for_power", paused),
            ] {
                depth.push((vec![("queue", name), ("state", state)], count(n)));
            }
        }
        family(
            &mut e,
            "queue_jobs",
            "Jobs in each queue now, by state: queued (ready to start, or waiting on the jobs they run after), scheduled (waiting for their time), held (waiting for power), running, paused_for_power (running, stopped until power returns).",
            None,
            MetricType::Gauge,
            depth,
        )?;
        let queue_gauge = |f: &dyn Fn(&QueueView) -> i64| -> Vec<(Labels, ConstGauge<i64>)> {
            self.queues
                .iter()
                .map(|q| (vec![("queue", q.name.as_str())], gauge(f(q))))
                .collect()
        };
        family(
            &mut e,
            "queue_concurrency",
            "How many jobs each queue may run at once.",
            None,
            MetricType::Gauge,
            queue_gauge(&|q| i64::from(q.concurrency)),
        )?;
        family(
            &mut e,
            "queue_paused",
            "1 while a queue is paused by a person.",
            None,
            MetricType::Gauge,
            queue_gauge(&|q| i64::from(q.paused)),
        )?;
        family(
            &mut e,
            "queue_held_for_power",
            "1 while power holds a queue's waiting jobs back.",
            None,
            MetricType::Gauge,
            queue_gauge(&|q| i64::from(self.held_for_power.contains(&q.name))),
        )?;
        family(
            &mut e,
            "paused",
            "1 while dispatch in every queue is held (nightshift pause).",
            None,
            MetricType::Gauge,
            vec![(vec![], flag(self.all_paused))],
        )?;
        family(
            &mut e,
            "power_on_ac",
            "1 on AC power (or with no battery), 0 on battery.",
            None,
            MetricType::Gauge,
            vec![(vec![], flag(self.on_ac))],
        )?;
        if let Some(percent) = self.battery_percent {
            let ratio = ConstGauge::new(f64::from(percent) / 100.0);
            family(
                &mut e,
                "battery_charge",
                "How full the battery is, 0 to 1; absent without a battery.",
                Some(Unit::Other("ratio".into())),
                MetricType::Gauge,
                vec![(vec![], ratio)],
            )?;
        }
        family(
            &mut e,
            "last_start_unclean",
            "1 if this run of Nightshift found attempts a previous run left open (it was killed or crashed).",
            None,
            MetricType::Gauge,
            vec![(vec![], flag(self.unclean_start))],
        )?;
        let s = &self.stats;
        family(
            &mut e,
            "process_resident_memory",
            "Nightshift's resident memory.",
            Some(Unit::Bytes),
            MetricType::Gauge,
            vec![(vec![], count(s.resident_bytes))],
        )?;
        family(
            &mut e,
            "process_cpu",
            "CPU time Nightshift used (user and system) since it started.",
            Some(Unit::Seconds),
            MetricType::Counter,
            vec![(vec![], ConstCounter::new(s.cpu_seconds))],
        )?;
        if let Some(open) = s.open_files {
            family(
                &mut e,
                "process_open_fds",
                "File descriptors Nightshift has open.",
                None,
                MetricType::Gauge,
                vec![(vec![], count(open))],
            )?;
        }
        family(
            &mut e,
            "process_start_time",
            "When this Nightshift started, in Unix time.",
            Some(Unit::Seconds),
            MetricType::Gauge,
            vec![(vec![], count(s.start_time_seconds))],
        )?;
        family(
            &mut e,
            "database_size",
            "Size of the database file.",
            Some(Unit::Bytes),
            MetricType::Gauge,
            vec![(vec![], count(s.database_bytes))],
        )?;
        family(
            &mut e,
            "database_wal_size",
            "Size of the database's write-ahead log.",
            Some(Unit::Bytes),
            MetricType::Gauge,
            vec![(vec![], count(s.wal_bytes))],
        )?;
        for (name, help, value) in [
            (
                "data_disk_free",
                "Room left to write on the disk that holds the data folder.",
                s.disk_free_bytes,
            ),
            (
                "data_disk_size",
                "Size of the disk that holds the data folder.",
                s.disk_size_bytes,
            ),
            (
                "logs_size",
                "Size of the jobs' logs folder, measured once a minute.",
                s.logs_bytes,
            ),
        ] {
            if let Some(bytes) = value {
                family(
                    &mut e,
                    name,
                    help,
                    Some(Unit::Bytes),
                    MetricType::Gauge,
                    vec![(vec![], count(bytes))],
                )?;
            }
        }
        self.encode_pools(&mut e)?;
        self.encode_incidents(&mut e)?;
        family(
            &mut e,
            "build_info",
            "Always 1; the version is in its label.",
            None,
            MetricType::Gauge,
            vec![(vec![("version", env!("CARGO_PKG_VERSION"))], gauge(1))],
        )?;
        Ok(())
    }
}

impl Snapshot {
    /// Open incidents by rule, severity and state (pending or active); every enabled rule has
    /// its two series, at 0 while it holds nowhere.
    fn encode_incidents(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use nightshift_core::incident::IncidentState;
        let mut samples = Vec::new();
        for rule in self.rules.iter().filter(|r| r.enabled) {
            for state in [IncidentState::Pending, IncidentState::Active] {
                let n = self
                    .incidents
                    .iter()
                    .filter(|i| i.rule == rule.id && i.state == state)
                    .count() as u64;
                samples.push((
                    vec![
                        ("rule", rule.id.as_str()),
                        ("severity", rule.severity.as_str()),
                        ("state", state.as_str()),
                    ],
                    count(n),
                ));
            }
        }
        family(
            e,
            "incidents_open",
            "Open incidents by rule, severity and state: pending (the condition holds, not yet for the rule's `for`) or active (the user is told).",
            None,
            MetricType::Gauge,
            samples,
        )
    }

    /// Worker pools: workers by state against the count wanted, restarts, jobs and busy ratio.
    fn encode_pools(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use nightshift_core::worker::view::WorkerState;
        const STATES: [(WorkerState, &str); 6] = [
            (WorkerState::Starting, "starting"),
            (WorkerState::Idle, "idle"),
            (WorkerState::Busy, "busy"),
            (WorkerState::BackingOff, "backing_off"),
            (WorkerState::Unresponsive, "unresponsive"),
            (WorkerState::Stopped, "stopped"),
        ];
        let in_state = |p: &crate::PoolView, s: WorkerState| {
            p.workers.iter().filter(|w| w.state == s).count() as u64
        };
        let mut by_state = Vec::new();
        for p in &self.pools {
            for (state, label) in STATES {
                by_state.push((
                    vec![("pool", p.name.as_str()), ("state", label)],
                    count(in_state(p, state)),
                ));
            }
        }
        family(
            e,
            "pool_workers",
            "Workers of each pool now, by state: starting, idle, busy, backing_off (exited, restarting after its wait), unresponsive (ended for its silence, restarting after its wait), stopped.",
            None,
            MetricType::Gauge,
            by_state,
        )?;
        let per_pool = |f: &dyn Fn(&crate::PoolView) -> u64| -> Vec<(Labels, ConstGauge<i64>)> {
            self.pools
                .iter()
                .map(|p| (vec![("pool", p.name.as_str())], count(f(p))))
                .collect()
        };
        family(
            e,
            "pool_desired_workers",
            "How many workers each pool should run (0 while it is stopped).",
            None,
            MetricType::Gauge,
            per_pool(&|p| if p.stopped { 0 } else { u64::from(p.count) }),
        )?;
        family(
            e,
            "pool_crash_looping",
            "1 while a pool's workers keep exiting soon after they start.",
            None,
            MetricType::Gauge,
            per_pool(&|p| u64::from(p.crash_looping.is_some())),
        )?;
        let sum = |p: &crate::PoolView, f: &dyn Fn(&crate::WorkerView) -> u64| -> u64 {
            p.workers.iter().map(f).sum()
        };
        family(
            e,
            "pool_worker_restarts",
            "Restarts of a pool's workers after they exited, since Nightshift started.",
            None,
            MetricType::Counter,
            self.pools
                .iter()
                .map(|p| {
                    (
                        vec![("pool", p.name.as_str())],
                        counter(sum(p, &|w| u64::from(w.restarts))),
                    )
                })
                .collect(),
        )?;
        let mut jobs = Vec::new();
        for p in &self.pools {
            for (outcome, n) in [
                ("succeeded", sum(p, &|w| w.jobs_done)),
                ("failed", sum(p, &|w| w.jobs_failed)),
            ] {
                jobs.push((
                    vec![("pool", p.name.as_str()), ("outcome", outcome)],
                    counter(n),
                ));
            }
        }
        family(
            e,
            "pool_jobs",
            "Jobs a pool's workers ran since Nightshift started, by outcome (failed: anything but success).",
            None,
            MetricType::Counter,
            jobs,
        )?;
        let mut busy = Vec::new();
        for p in &self.pools {
            let ready = in_state(p, WorkerState::Idle) + in_state(p, WorkerState::Busy);
            let ratio = if ready == 0 {
                0.0
            } else {
                in_state(p, WorkerState::Busy) as f64 / ready as f64
            };
            busy.push((vec![("pool", p.name.as_str())], ConstGauge::new(ratio)));
        }
        family(
            e,
            "pool_busy",
            "Share of a pool's ready workers that are busy now, 0 to 1.",
            Some(Unit::Other("ratio".into())),
            MetricType::Gauge,
            busy,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::MetricsFormat;

    #[test]
    fn openmetrics_only_when_asked_for() {
        assert_eq!(MetricsFormat::from_accept(None), MetricsFormat::Prometheus);
        assert_eq!(
            MetricsFormat::from_accept(Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1")),
            MetricsFormat::Prometheus
        );
        assert_eq!(
            MetricsFormat::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            MetricsFormat::OpenMetrics
        );
    }
}
