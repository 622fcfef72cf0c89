//! Webhook delivery of incident alerts. Each time the user is told of an incident (it became
//! active, came back, a reminder, it resolved), every `[[alerts.webhook]]` whose
//! `min_severity` it meets gets a POST with a JSON body Slack-style incoming webhooks accept
//! (`payload`). Deliveries are stored first (the delivery log), then sent by a task of their
//! own, each attempt on its own task, so a slow or dead receiver never holds the engine up nor
//! the other receivers' deliveries; a failed attempt is retried with a backoff (`retry`), also
//! across a restart of Nightshift, until it is delivered or given up.

mod payload;
mod retry;
mod send;

pub use payload::body;
pub use retry::{MAX_ATTEMPTS, next_wait};

use nightshift_core::config::AlertsConfig;
use nightshift_engine::{EngineHandle, Event};
use nightshift_store::{Attempted, NewDelivery};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

/// The delivery tasks; they stop when dropped or stopped.
pub struct Alerts {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Alerts {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Alerts {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts delivering. With no webhook configured nothing runs (and pending deliveries from an
/// earlier configuration stay as they are).
pub fn start(engine: EngineHandle, config: &AlertsConfig) -> Alerts {
    if config.webhook.is_empty() {
        return Alerts { tasks: Vec::new() };
    }
    let wake = Arc::new(Notify::new());
    let listen = tokio::spawn(listen(engine.clone(), config.clone(), wake.clone()));
    let deliver = tokio::spawn(deliver(engine, wake));
    Alerts {
        tasks: vec![listen, deliver],
    }
}

/// Turns each alert into one stored delivery per receiver that wants it.
async fn listen(engine: EngineHandle, config: AlertsConfig, wake: Arc<Notify>) {
    let mut events = engine.subscribe();
    loop {
        let (incident, notice) = match events.recv().await {
            Ok(Event::Incident {
                incident,
                notice: Some(notice),
                ..
            }) => (incident, notice),
            Ok(_) => continue,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "the webhook sender fell behind the engine's events"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let now = engine.now_ms();
        let body = payload::body(&incident, notice, now);
        let new: Vec<NewDelivery> = config
            .webhook
            .iter()
            .filter(|w| incident.severity >= w.min_severity)
            .map(|w| NewDelivery {
                incident: incident.id,
                alert: notice.as_str().to_string(),
                url: w.url.clone(),
                body: body.clone(),
            })
            .collect();
        if new.is_empty() {
            continue;
        }
        match engine.store().insert_deliveries(new, now).await {
            Ok(_) => wake.notify_one(),
            Err(e) => {
                tracing::warn!(error = %e, id = incident.id, "cannot store an alert's deliveries")
            }
        }
    }
}

/// Attempts in flight at most: each on a task of its own, so a receiver that hangs holds up
/// only its own deliveries (each attempt ends by the client's timeout), not the others'.
const MAX_IN_FLIGHT: usize = 8;

/// Starts each due delivery's attempt, then sleeps until the next retry is due, a new delivery
/// arrives or an attempt ends.
async fn deliver(engine: EngineHandle, wake: Arc<Notify>) {
    let agent = send::agent();
    let mut flying: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
    // Each attempt's task and its delivery.
    let mut in_flight: std::collections::HashMap<tokio::task::Id, i64> = Default::default();
    loop {
        let pending = match engine.store().pending_deliveries().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the pending deliveries");
                Vec::new()
            }
        };
        let mut next: Option<i64> = None;
        for (delivery, body) in pending {
            let flying_now = in_flight.values().any(|id| *id == delivery.id);
            if flying_now || in_flight.len() >= MAX_IN_FLIGHT {
                // Its attempt's end (or another's) runs this loop again.
                continue;
            }
            let now = engine.now_ms();
            let due = delivery.next_at.unwrap_or(now);
            if due > now {
                next = Some(next.map_or(due, |n| n.min(due)));
                continue;
            }
            let id = delivery.id;
            let task = flying.spawn(attempt(engine.clone(), agent.clone(), delivery, body));
            in_flight.insert(task.id(), id);
        }
        let sleep = match next {
            Some(at) => nightshift_core::timestamp::until(engine.now_ms(), at),
            // Nothing waiting: only a new delivery or an attempt's end wakes this task.
            None => Duration::MAX,
        };
        tokio::select! {
            () = tokio::time::sleep(sleep.min(Duration::from_secs(86_400))) => {}
            () = wake.notified() => {}
            Some(ended) = flying.join_next_with_id(), if !flying.is_empty() => {
                let task = match ended {
                    Ok((task, ())) => task,
                    Err(e) => {
                        tracing::warn!(error = %e, "a delivery attempt did not finish");
                        e.id()
                    }
                };
                in_flight.remove(&task);
            }
        }
    }
}

/// One attempt of one delivery, recorded.
async fn attempt(
    engine: EngineHandle,
    agent: ureq::Agent,
    delivery: nightshift_core::incident::Delivery,
    body: String,
) {
    let outcome = send::post(&agent, &delivery.url, body).await;
    let attempts = delivery.attempts.saturating_add(1);
    let now = engine.now_ms();
    let how = retry::judge(outcome, attempts, now);
    if let Attempted::Failed { error, .. } = &how {
        tracing::warn!(
            url = delivery.url,
            incident = delivery.incident,
            error,
            "gave up delivering an alert"
        );
    }
    if let Err(e) = engine
        .store()
        .delivery_attempted(delivery.id, how, now)
        .await
    {
        tracing::warn!(error = %e, "cannot record a delivery attempt");
    }
}
