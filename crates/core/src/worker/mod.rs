//! Worker pools: long-running processes that Nightshift keeps alive and feeds jobs over their
//! standard input and output. This module holds what a pool is (`pool`), the protocol spoken
//! with each worker (`protocol`), and the restart policy (`backoff`); the engine supervises.

pub mod backoff;
pub mod pool;
pub mod protocol;
pub mod view;
