//! Figure 8, dispatch when AC power returns: 50 queues `q00`..`q49`, each set in the config
//! file's way to require AC (`require_ac = true`, concurrency 1), hold `/bin/true` jobs spread
//! evenly over them while the engine reads "on battery, 50%" from a power source the bench
//! controls (polled every second, the shortest poll the config allows). The source is then
//! switched to AC. Measured from the moment the engine's poll reads AC (the source notes its
//! first such reading, so the up-to-a-second wait for the poll is not counted, but the reading
//! coming back, `PowerChanged` and the scheduler's reaction are) to the engine's first
//! `Started` event as received by a listener, and to the moment every queue has had a job start
//! (a `Started` event from each of the 50 queues). Each round is a fresh engine on a fresh data
//! folder; the p50 over the rounds is reported. Baseline: the same with only 1,000 jobs
//! waiting, in rounds interleaved with the large ones. The scheduler should look again only at
//! the queues power held back, never scan the whole table, so the two should be about equal.

use crate::harness::{BenchEngine, true_jobs, wait_for};
use crate::report::{Figure, Target};
use crate::stats::Samples;
use anyhow::{Context, bail, ensure};
use nightshift_core::{Config, JobId, QueueConfig};
use nightshift_engine::{EngineHandle, Event, PowerHold};
use nightshift_power::{PowerError, PowerSource, PowerState};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// Queues the jobs are spread over.
const QUEUES: usize = 50;
/// Most jobs in one `enqueue` call.
const BATCH: usize = 2_000;
/// The power poll: the shortest the config allows.
const POLL: Duration = Duration::from_secs(1);
/// Longest the engine may take to hold every queue after the enqueues, to notice AC (a poll
/// plus margin), or to start a job in every queue, before the run counts as broken.
const LIMIT: Duration = Duration::from_secs(30);
/// How long the bench listens for a `Started` event that must not come while on battery. Not
/// synchronisation: nothing is waited for, and a short window keeps the rounds quick; a job
/// started on battery would most likely have started already, as every queue is held by then.
const QUIET: Duration = Duration::from_millis(200);

const ON_BATTERY: PowerState = PowerState {
    on_ac: false,
    battery_percent: Some(50.0),
};
const ON_AC: PowerState = PowerState {
    on_ac: true,
    battery_percent: Some(50.0),
};

/// A power source the bench switches; it notes when the engine first read AC from it.
#[derive(Debug)]
struct FakePower {
    state: Mutex<PowerState>,
    ac_read_at: Mutex<Option<Instant>>,
}

impl FakePower {
    fn set(&self, state: PowerState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    fn ac_read_at(&self) -> Option<Instant> {
        *self.ac_read_at.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PowerSource for FakePower {
    fn read(&self) -> Result<PowerState, PowerError> {
        let state = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.on_ac {
            self.ac_read_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(Instant::now);
        }
        Ok(state)
    }
}

/// One round's times, from the engine reading AC.
struct Round {
    first: Duration,
    every_queue: Duration,
}

pub async fn run(
    waiting: usize,
    baseline_waiting: usize,
    rounds: usize,
) -> anyhow::Result<Vec<Figure>> {
    let (mut first, mut every) = (Vec::new(), Vec::new());
    let (mut base_first, mut base_every) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let base = round(baseline_waiting).await?;
        base_first.push(base.first);
        base_every.push(base.every_queue);
        let large = round(waiting).await?;
        first.push(large.first);
        every.push(large.every_queue);
    }
    let p50 = |samples: Vec<Duration>| Samples::new(samples).percentile_ms(50.0);
    let baseline_name = format!("the same with {baseline_waiting} jobs waiting");
    Ok(vec![
        Figure {
            key: "power_wait_first_start_ms",
            name: format!(
                "AC back to first job started, {waiting} jobs waiting in {QUEUES} queues, \
                 p50 of {rounds}"
            ),
            unit: "ms",
            value: p50(first),
            baseline: p50(base_first),
            baseline_name: baseline_name.clone(),
            target: Target::AtMost(10.0),
        },
        Figure {
            key: "power_wait_every_queue_ms",
            name: format!(
                "AC back to a job started in each of {QUEUES} queues, {waiting} waiting, \
                 p50 of {rounds}"
            ),
            unit: "ms",
            value: p50(every),
            baseline: p50(base_every),
            baseline_name,
            target: Target::None,
        },
    ])
}

/// A fresh engine on battery with `waiting` jobs held for AC; then AC.
async fn round(waiting: usize) -> anyhow::Result<Round> {
    ensure!(
        waiting >= QUEUES,
        "{waiting} jobs cannot fill {QUEUES} queues"
    );
    let names: Vec<String> = (0..QUEUES).map(|i| format!("q{i:02}")).collect();
    let mut config = Config::default();
    config.power.poll = POLL;
    for name in &names {
        config.queues.insert(
            name.clone(),
            QueueConfig {
                concurrency: Some(1),
                require_ac: Some(true),
                ..Default::default()
            },
        );
    }
    let power = Arc::new(FakePower {
        state: Mutex::new(ON_BATTERY),
        ac_read_at: Mutex::new(None),
    });
    let bench = BenchEngine::start_with(config, Some(power.clone())).await?;
    let result = measure(&bench.engine, &power, &names, waiting).await;
    bench.stop().await;
    result.with_context(|| format!("with {waiting} jobs waiting"))
}

async fn measure(
    engine: &EngineHandle,
    power: &FakePower,
    names: &[String],
    waiting: usize,
) -> anyhow::Result<Round> {
    // Subscribed before the first enqueue, so a job started on battery cannot go unseen.
    let mut events = engine.subscribe();
    let mut queue_of: HashMap<JobId, usize> = HashMap::with_capacity(waiting);
    for (index, name) in names.iter().enumerate() {
        // Spread evenly; the first queues take the remainder.
        let mut left = waiting / QUEUES + usize::from(index < waiting % QUEUES);
        while left > 0 {
            let n = left.min(BATCH);
            let ids = engine.enqueue(true_jobs(n, name)).await?;
            ensure!(ids.len() == n, "enqueued {} of {n} jobs", ids.len());
            queue_of.extend(ids.into_iter().map(|id| (id, index)));
            left -= n;
        }
    }
    held_for_ac(engine).await?;
    nothing_starts(engine, &mut events).await?;

    power.set(ON_AC);
    wait_for(
        &mut events,
        LIMIT,
        "PowerChanged event",
        |e| matches!(e, Event::PowerChanged { state } if state.on_ac),
    )
    .await?;
    let ac_read_at = power
        .ac_read_at()
        .context("the engine published AC without reading it")?;
    let mut first = None;
    let mut started: HashSet<usize> = HashSet::with_capacity(QUEUES);
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => bail!(
                "jobs started in only {} of {QUEUES} queues within {LIMIT:?} of AC",
                started.len()
            ),
            Ok(Ok(Event::Started { id, .. })) => {
                let at = Instant::now();
                first.get_or_insert(at);
                let queue = queue_of
                    .get(&id)
                    .with_context(|| format!("job {id} started, and the bench never added it"))?;
                if started.insert(*queue) && started.len() == QUEUES {
                    return Ok(Round {
                        first: first.unwrap_or(at) - ac_read_at,
                        every_queue: at - ac_read_at,
                    });
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(n))) => bail!("missed {n} events while jobs started"),
            Ok(Err(RecvError::Closed)) => bail!("the event bus closed while jobs started"),
        }
    }
}

/// Waits until the scheduler has looked at every queue since the enqueues and holds each one
/// back for AC. The engine has no event for that, so this polls its view (with a deadline).
async fn held_for_ac(engine: &EngineHandle) -> anyhow::Result<()> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let holds = engine.power_holds();
        let held = holds.values().filter(|h| **h == PowerHold::NeedsAc).count();
        if held == QUEUES {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {held} of {QUEUES} queues held back for AC after {LIMIT:?}: {holds:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Checks that no job runs, or starts within `QUIET`, while on battery.
async fn nothing_starts(engine: &EngineHandle, events: &mut Receiver<Event>) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + QUIET;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => break,
            Ok(Ok(Event::Started { id, .. })) => bail!("job {id} started on battery"),
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(n))) => bail!("missed {n} events while on battery"),
            Ok(Err(RecvError::Closed)) => bail!("the event bus closed while on battery"),
        }
    }
    ensure!(
        engine.running() == 0,
        "{} jobs run on battery",
        engine.running()
    );
    Ok(())
}
