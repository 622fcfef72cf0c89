//! What the engine counts about the work, as plain values: a tally per queue and period
//! (jobs added, started, ended by outcome, failures by cause, run and wait times) and the
//! mergeable histogram its times go into. The engine fills tallies from its own events; the
//! store keeps one per queue and minute (and hour); summaries over any window merge them
//! (`history` says which rows a window reads).

mod histogram;
pub mod history;
mod tally;

pub use histogram::Histogram;
pub use tally::{FailureCause, Tally};
