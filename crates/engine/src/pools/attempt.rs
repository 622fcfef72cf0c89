//! The attempt of a job a worker runs, as the scheduler sees it: like `runner::run` for a
//! process, it announces the start, hands the job to the worker's task and waits for the
//! outcome, which the scheduler records (with the worker that ran it).

use super::{Feed, WorkerHandle};
use crate::context::Context;
use crate::runner::{Control, Outcome};
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
    // No identity of its own is stored before the job goes: the process is the worker's,
    // which carries the worker tag that start-up recovery ends every worker by, and an attempt
    // left open without an identity is put back in its queue by recovery. (That is a commit
    // per job less than a process's attempt needs; the worker and its pid are kept with the
    // end.)
    let identity = &worker.identity;
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
