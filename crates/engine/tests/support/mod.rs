//! The in-process engine fixture: a temp data folder with every path inside it, an engine on
//! it, and helpers that wait on events with deadlines instead of sleeping.

#![allow(dead_code)]

use nightshift_core::{Config, JobId, JobSpec, JobState, Paths};
use nightshift_engine::{Engine, EngineHandle, EngineOptions, Event};
use nightshift_store::NewJob;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub engine: EngineHandle,
    pub events: Receiver<Event>,
}

pub fn paths(dir: &tempfile::TempDir) -> Paths {
    Paths::under(dir.path())
}

pub fn config() -> Config {
    let mut config = Config::default();
    config.jobs.kill_grace = Duration::from_secs(2);
    config.jobs.concurrency = 4;
    // Retries come back quickly in tests (their spacing has its own tests).
    config.jobs.retry_backoff = Duration::from_millis(20);
    config.jobs.retry_backoff_max = Duration::from_millis(40);
    config
}

/// The test config with every rule but `rule` off, and `tweak` applied to its settings.
pub fn only(
    rule: nightshift_core::incident::RuleId,
    tweak: impl FnOnce(&mut nightshift_core::config::RuleConfig),
) -> Config {
    let mut config = config();
    config.jobs.concurrency = 12;
    for id in nightshift_core::incident::RuleId::ALL {
        let settings = nightshift_core::config::RuleConfig {
            enabled: Some(id == rule),
            ..Default::default()
        };
        config.incidents.rules.insert(id.as_str().into(), settings);
    }
    tweak(config.incidents.rules.get_mut(rule.as_str()).unwrap());
    config
}

/// An engine on a fresh folder whose clock moves only when the test moves it.
pub async fn start_with_clock(
    config: Config,
    clock: std::sync::Arc<nightshift_core::clock::ManualClock>,
) -> (tempfile::TempDir, EngineHandle) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(EngineOptions {
        paths: paths(&dir),
        config,
        clock,
    })
    .await
    .expect("engine starts");
    (dir, engine)
}

pub async fn start_in(dir: tempfile::TempDir, config: Config) -> Fixture {
    start_with(dir, config, None).await
}

/// An engine on `dir`, reading `power` (or the source the config names).
async fn start_with(
    dir: tempfile::TempDir,
    config: Config,
    power: Option<std::sync::Arc<dyn nightshift_power::PowerSource>>,
) -> Fixture {
    start_full(dir, config, nightshift_core::clock::system(), power).await
}

/// An engine on `dir` with `clock`, reading `power` (or the source the config names).
pub async fn start_full(
    dir: tempfile::TempDir,
    config: Config,
    clock: std::sync::Arc<dyn nightshift_core::Clock>,
    power: Option<std::sync::Arc<dyn nightshift_power::PowerSource>>,
) -> Fixture {
    let engine = Engine::start_with_power(
        EngineOptions {
            paths: paths(&dir),
            config,
            clock,
        },
        power,
    )
    .await
    .expect("engine starts");
    let events = engine.subscribe();
    Fixture {
        dir,
        engine,
        events,
    }
}

impl Drop for Fixture {
    /// Shuts the engine down, so a test that ends (or fails) while jobs run leaves no process
    /// group behind. The tests run on the multi-threaded runtime, where this may block.
    fn drop(&mut self) {
        let engine = self.engine.clone();
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(engine.shutdown())
        });
    }
}

/// A power source whose state the test sets.
#[derive(Debug)]
pub struct FakePower(std::sync::Mutex<nightshift_power::PowerState>);

impl FakePower {
    pub fn new(state: nightshift_power::PowerState) -> std::sync::Arc<FakePower> {
        std::sync::Arc::new(FakePower(std::sync::Mutex::new(state)))
    }

    pub fn set(&self, state: nightshift_power::PowerState) {
        *self.0.lock().unwrap() = state;
    }
}

impl nightshift_power::PowerSource for FakePower {
    fn read(&self) -> Result<nightshift_power::PowerState, nightshift_power::PowerError> {
        Ok(*self.0.lock().unwrap())
    }
}

/// An engine reading `FakePower`, polled every second (the shortest poll the config allows).
pub async fn start_with_power(
    state: nightshift_power::PowerState,
) -> (Fixture, std::sync::Arc<FakePower>) {
    let source = FakePower::new(state);
    let mut config = config();
    config.power.poll = Duration::from_secs(1);
    let fixture = start_with(tempfile::tempdir().unwrap(), config, Some(source.clone())).await;
    (fixture, source)
}

pub async fn start(config: Config) -> Fixture {
    start_in(tempfile::tempdir().unwrap(), config).await
}

pub fn sh(script: &str, queue: &str) -> NewJob {
    NewJob {
        run_at: None,
        spec: JobSpec::command(&["/bin/sh", "-c", script], queue),
        payload: None,
        after: Vec::new(),
    }
}

impl Fixture {
    pub async fn add(&self, job: NewJob) -> JobId {
        self.engine.enqueue(vec![job]).await.unwrap()[0]
    }

    /// The next event matching `pick`, or a panic after the deadline.
    pub async fn next<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .expect("event bus open");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    }

    pub async fn started(&mut self, id: JobId) -> i32 {
        self.next(&format!("job {id} to start"), |e| match e {
            Event::Started { id: i, pid, .. } if *i == id => Some(*pid),
            _ => None,
        })
        .await
    }

    /// The next power reading the engine publishes.
    pub async fn power_changed(&mut self) -> nightshift_power::PowerState {
        self.next("a power change", |e| match e {
            Event::PowerChanged { state } => Some(*state),
            _ => None,
        })
        .await
    }

    /// Waits until the job reaches a final state.
    pub async fn finished(&mut self, id: JobId) -> JobState {
        self.next(&format!("job {id} to finish"), |e| match e {
            Event::Ended { id: i, state, .. } if *i == id && state.is_final() => Some(*state),
            _ => None,
        })
        .await
    }
}

impl Fixture {
    /// Waits until every one of `ids` reaches a final state, in any order.
    pub async fn all_finished(&mut self, ids: &[JobId]) -> Vec<JobState> {
        let mut states: std::collections::HashMap<JobId, JobState> = Default::default();
        while states.len() < ids.len() {
            let (id, state) = self
                .next("the jobs to finish", |e| match e {
                    Event::Ended { id, state, .. } if state.is_final() && ids.contains(id) => {
                        Some((*id, *state))
                    }
                    _ => None,
                })
                .await;
            states.insert(id, state);
        }
        ids.iter().map(|id| states[id]).collect()
    }
}

/// How each attempt of a job ended, in order.
pub async fn outcomes(engine: &EngineHandle, id: JobId) -> Vec<nightshift_core::AttemptOutcome> {
    engine
        .store()
        .attempts(id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.outcome)
        .collect()
}

pub use nightshift_e2e::member_states;

/// Live members of a process group, from /proc.
pub fn members(pgid: i32) -> usize {
    member_states(pgid).len()
}

pub fn battery(percent: f32) -> nightshift_power::PowerState {
    nightshift_power::PowerState {
        on_ac: false,
        battery_percent: Some(percent),
    }
}

pub fn on_ac() -> nightshift_power::PowerState {
    nightshift_power::PowerState {
        on_ac: true,
        battery_percent: Some(100.0),
    }
}

/// Polls `cond` until it holds or the deadline passes.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    poll(what, || std::future::ready(cond().then_some(()))).await
}

/// Polls `probe` until it gives a value, failing the test after [`DEADLINE`]; for conditions
/// that need an `await` (a store read).
pub async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
