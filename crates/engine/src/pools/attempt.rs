//! The attempt of a job a worker runs, as the scheduler sees it: like `runner::run` for a
//! process, it stores the identity first (the worker's: a crash of Nightshift now ends the
//! worker and puts the job back, as recovery does for any attempt), then hands the job to the
//! worker's task and waits for the outcome, which the scheduler records.

use super::{Feed, WorkerHandle};
use crate::context::Context;
use crate::runner::{Control, Outcome};
use nightshift_core::AttemptOutcome;
use nightshift_store::Claimed;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub(crate) async fn run(
    ctx: Arc<Context>,
    claimed: Claimed,
    control: mpsc::UnboundedReceiver<Control>,
    worker: Option<WorkerHandle>,
) -> Outcome {
    let Some(worker) = worker else {
        return super::worker::gone_before_start();
    };
    let identity = &worker.identity;
    if let Err(e) = ctx
        .store
        .set_worker_identity(
            claimed.attempt_id,
            identity.pid,
            identity.start_ticks,
            identity.boot_id.clone(),
            worker.name.clone(),
        )
        .await
    {
        tracing::error!(job = %claimed.job.id, error = %e, "cannot store the attempt's worker; the job goes back");
        return Outcome {
            outcome: AttemptOutcome::Interrupted,
            consume: false,
            exit: None,
            reason: Some(format!("could not record the worker: {e}")),
            crash: false,
            result: None,
        };
    }
    let (id, attempt, queue) = (
        claimed.job.id,
        claimed.attempt_number,
        claimed.job.spec.queue.clone(),
    );
    ctx.metrics.started(&queue, claimed.waited_ms());
    let _ = ctx.events.send(crate::Event::Started {
        id,
        attempt,
        pid: identity.pid,
    });
    let (reply, outcome) = oneshot::channel();
    let feed = Feed {
        claimed: Box::new(claimed),
        control,
        reply,
    };
    if worker.feed.send(feed).await.is_err() {
        return super::worker::gone_before_start();
    }
    // The worker's task always answers, unless it is gone (the engine stopping).
    outcome
        .await
        .unwrap_or_else(|_| super::worker::gone_before_start())
}
