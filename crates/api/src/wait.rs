//! Waiting for jobs to finish: driven by engine events, re-checked against the store when the
//! listener falls behind, so a burst of thousands of endings is never missed.

use crate::dto::{JobBrief, WaitRequest, WaitResult};
use crate::error::ApiError;
use nightshift_core::JobId;
use nightshift_core::duration::deadline_after;
use nightshift_engine::{EngineHandle, Event};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::time::Instant;

/// Most ids one wait may name.
pub const MAX_WAIT_IDS: usize = 100_000;

pub(crate) async fn wait(
    engine: &EngineHandle,
    request: WaitRequest,
) -> Result<WaitResult, ApiError> {
    if request.ids.is_empty() {
        return Err(ApiError::bad_request(
            "give at least one job id to wait for",
        ));
    }
    if request.ids.len() > MAX_WAIT_IDS {
        return Err(ApiError::bad_request(format!(
            "wait for at most {MAX_WAIT_IDS} jobs at once"
        )));
    }
    // Subscribe before reading states, so an ending between the two is not lost.
    let mut events = engine.subscribe();
    let mut pending: BTreeSet<JobId> = request.ids.iter().copied().collect();
    let known = engine.states(pending.iter().copied().collect()).await?;
    if known.len() < pending.len() {
        let known: BTreeSet<JobId> = known.iter().map(|(id, _)| *id).collect();
        let missing: Vec<String> = pending
            .difference(&known)
            .map(|id| id.to_string())
            .collect();
        return Err(ApiError::new(
            crate::ErrorKind::NotFound,
            format!("no job {}", missing.join(", ")),
        ));
    }
    let mut finished: BTreeSet<JobId> = BTreeSet::new();
    settle(&mut pending, &mut finished, known);
    let deadline = deadline_after(
        std::time::Instant::now(),
        request.timeout_ms.map(Duration::from_millis),
    )
    .map(Instant::from_std);
    let done = |pending: &BTreeSet<JobId>, finished: &BTreeSet<JobId>| {
        pending.is_empty() || (request.any && !finished.is_empty())
    };
    while !done(&pending, &finished) {
        let next = async {
            match deadline {
                Some(at) => tokio::time::timeout_at(at, events.recv()).await.ok(),
                None => Some(events.recv().await),
            }
        };
        match next.await {
            None => break,
            Some(Ok(Event::Ended { id, state, .. })) if state.is_final() && pending.remove(&id) => {
                finished.insert(id);
            }
            Some(Ok(_)) => {}
            Some(Err(RecvError::Lagged(_))) => {
                let states = engine.states(pending.iter().copied().collect()).await?;
                settle(&mut pending, &mut finished, states);
            }
            Some(Err(RecvError::Closed)) => {
                return Err(ApiError::new(
                    crate::ErrorKind::Unavailable,
                    "Nightshift is shutting down",
                ));
            }
        }
    }
    let mut briefs = Vec::with_capacity(finished.len());
    for id in finished {
        if let Some(job) = engine.job(id).await? {
            let attempts = engine.attempts(id).await?;
            briefs.push(JobBrief {
                id,
                state: job.state,
                outcome: attempts.last().map(|a| a.outcome),
                exit_code: job.exit_code,
                signal: job.signal,
                reason: job.reason,
            });
        }
    }
    Ok(WaitResult {
        finished: briefs,
        pending: pending.into_iter().collect(),
    })
}

fn settle(
    pending: &mut BTreeSet<JobId>,
    finished: &mut BTreeSet<JobId>,
    states: Vec<(JobId, nightshift_core::JobState)>,
) {
    for (id, state) in states {
        if state.is_final() && pending.remove(&id) {
            finished.insert(id);
        }
    }
}

/// Waits until one job reaches a final state.
pub(crate) async fn until_final(
    engine: &EngineHandle,
    events: &mut Receiver<Event>,
    id: JobId,
) -> Result<(), ApiError> {
    loop {
        if engine.state(id).await?.is_some_and(|s| s.is_final()) {
            return Ok(());
        }
        match events.recv().await {
            Ok(Event::Ended {
                id: ended, state, ..
            }) if ended == id && state.is_final() => return Ok(()),
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => {
                return Err(ApiError::new(
                    crate::ErrorKind::Unavailable,
                    "Nightshift is shutting down",
                ));
            }
        }
    }
}
