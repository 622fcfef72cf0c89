//! The rig: an engine on a manual clock with one rule on, and the steps every test takes.

use crate::support::*;
use nightshift_core::clock::ManualClock;
use nightshift_core::incident::{Incident, IncidentState, RuleId};
use nightshift_core::metrics::history::floor_to;
use nightshift_core::{Clock, Config, JobId};
use nightshift_store::{IncidentFilter, NewJob};
use std::sync::Arc;

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;

pub struct Rig {
    pub f: Fixture,
    pub clock: Arc<ManualClock>,
    /// The clock's start: a whole hour, so tests can count hours and minutes from it.
    pub t0: i64,
    pub rule: RuleId,
}

/// A job of `queue` that runs until the file `go` exists, then exits with `code`.
pub fn gated(go: &std::path::Path, queue: &str, code: i32) -> NewJob {
    let script = format!(
        "while [ ! -e '{}' ]; do sleep 0.01; done; exit {code}",
        go.display()
    );
    let mut job = sh(&script, queue);
    job.spec.max_attempts = 1;
    job
}

impl Rig {
    /// An engine on `config` (from [`only`]), in a fresh folder.
    pub async fn start(config: Config) -> Rig {
        Rig::start_in(config, tempfile::tempdir().unwrap(), None).await
    }

    /// The same in `dir`, reading `power` when given.
    pub async fn start_in(
        config: Config,
        dir: tempfile::TempDir,
        power: Option<Arc<FakePower>>,
    ) -> Rig {
        let mut on = config.incidents.rules().into_iter().filter(|r| r.enabled);
        let rule = on.next().expect("one rule on").id;
        assert!(on.next().is_none(), "only one rule on");
        let t0 = floor_to(nightshift_core::clock::system().now_ms(), HOUR);
        let clock = Arc::new(ManualClock::new(t0));
        let power = power.map(|p| p as Arc<dyn nightshift_power::PowerSource>);
        let f = start_full(dir, config, clock.clone(), power).await;
        Rig { f, clock, t0, rule }
    }

    /// Moves the clock to `t0 + ms` and tells the engine.
    pub fn at(&self, ms: i64) {
        self.clock.set(self.t0 + ms);
        self.f.engine.clock_moved();
    }

    /// Steps the clock through `minutes` (after t0), recording each into the history as the
    /// engine's minute snapshot does.
    pub async fn step(&self, minutes: std::ops::RangeInclusive<i64>) {
        for m in minutes {
            self.at(m * MIN);
            self.f.engine.flush_history().await.unwrap();
        }
    }

    /// Writes the minute under way into the history, evaluates, and returns the rule's
    /// incidents, newest first.
    pub async fn evaluate(&self) -> Vec<Incident> {
        self.f.engine.flush_history().await.unwrap();
        self.f.engine.evaluate_incidents().await;
        self.incidents().await
    }

    pub async fn incidents(&self) -> Vec<Incident> {
        let all = self
            .f
            .engine
            .incidents(IncidentFilter {
                limit: 100,
                ..IncidentFilter::default()
            })
            .await
            .unwrap();
        for i in &all {
            assert_eq!(i.rule, self.rule, "only the rule under test is on: {i:?}");
        }
        all
    }

    /// Evaluates and expects exactly one incident, in `state`.
    pub async fn expect(&self, state: IncidentState) -> Incident {
        let all = self.evaluate().await;
        assert_eq!(all.len(), 1, "one incident: {all:#?}");
        let one = all.into_iter().next().unwrap();
        assert_eq!(one.state, state, "{one:#?}");
        one
    }

    /// Evaluates and expects no incident at all.
    pub async fn expect_none(&self) {
        let all = self.evaluate().await;
        assert!(all.is_empty(), "no incident: {all:#?}");
    }

    /// The alerts appended to the history file: (alert, incident id).
    pub fn alerts(&self) -> Vec<(String, i64)> {
        std::fs::read_to_string(paths(&self.f.dir).data_dir.join("alerts.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["alert"].as_str().unwrap().to_string(),
                    v["id"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    /// The lifecycle's end every test shares: the condition was cleared at `clear` (ms after
    /// t0); the incident stays active for `resolve_after` (5 minutes) of clear, then resolves
    /// and says so once.
    pub async fn resolves(&self, id: i64, clear: i64) {
        self.at(clear);
        assert_eq!(self.expect(IncidentState::Active).await.id, id);
        self.at(clear + 5 * MIN - 1);
        self.expect(IncidentState::Active).await;
        self.at(clear + 5 * MIN);
        let done = self.expect(IncidentState::Resolved).await;
        assert_eq!(done.id, id);
        assert_eq!(
            self.alerts(),
            [("active".to_string(), id), ("resolved".to_string(), id)],
            "told once when active and once when resolved"
        );
    }

    /// Waits until every one of `ids` has started, in any order.
    pub async fn all_started(&mut self, ids: &[JobId]) {
        let mut seen = std::collections::HashSet::new();
        while seen.len() < ids.len() {
            let id = self
                .f
                .next("the jobs to start", |e| match e {
                    nightshift_engine::Event::Started { id, .. } if ids.contains(id) => Some(*id),
                    _ => None,
                })
                .await;
            seen.insert(id);
        }
    }

    /// Adds jobs that each run `run_ms` by the clock: they wait for a file, the clock moves on
    /// while all of them run, and the file lets them end. `fail` of them exit 1.
    pub async fn run_for(&mut self, queue: &str, n: usize, fail: usize, run_ms: i64) -> Vec<JobId> {
        let go = self
            .f
            .dir
            .path()
            .join(format!("go-{}", self.clock.now_ms()));
        let jobs: Vec<NewJob> = (0..n)
            .map(|i| gated(&go, queue, if i < fail { 1 } else { 0 }))
            .collect();
        let ids = self.f.engine.enqueue(jobs).await.unwrap();
        self.all_started(&ids).await;
        self.clock.set(self.clock.now_ms() + run_ms);
        std::fs::write(&go, b"").unwrap();
        self.f.all_finished(&ids).await;
        std::fs::remove_file(&go).unwrap();
        ids
    }
}
