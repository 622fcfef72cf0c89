//! "Something changed": engine events coalesced into at most a few ticks a second, for views
//! that refetch what they show (the desktop window, the browser page). A burst of thousands of
//! job endings becomes a handful of ticks, and an idle engine sends none.

use nightshift_engine::EngineHandle;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

/// The shortest time between two ticks.
pub const TICK_EVERY: Duration = Duration::from_millis(250);

/// Ticks until dropped.
#[derive(Debug)]
pub struct Changes {
    rx: mpsc::Receiver<()>,
}

impl Changes {
    /// The next tick; `None` once the engine has stopped.
    pub async fn next(&mut self) -> Option<()> {
        self.rx.recv().await
    }
}

pub(crate) fn watch(engine: &EngineHandle) -> Changes {
    let mut events = engine.subscribe();
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        // Wait for something to happen, tick, then let the rest of a burst gather for one
        // window; tick again only if anything arrived meanwhile.
        let mut pending = false;
        loop {
            if !pending {
                // Also end when the listener has gone, not only at the next event: an idle
                // engine may have none for hours, and reconnecting pages would pile up.
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                    () = tx.closed() => return,
                }
            }
            if tx.send(()).await.is_err() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(TICK_EVERY) => {}
                () = tx.closed() => return,
            }
            pending = false;
            loop {
                match events.try_recv() {
                    Ok(_) | Err(TryRecvError::Lagged(_)) => pending = true,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
        }
    });
    Changes { rx }
}
