//! Exit codes scripts can rely on.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success; for `wait`/`add --wait`, every job succeeded |
//! | 1 | the request was refused or failed (the message says why), or a waited-for job failed |
//! | 2 | the command line is wrong (from clap) |
//! | 3 | no Nightshift is running for this data folder |
//! | 4 | no such job |
//! | 5 | `wait --timeout` passed before the jobs finished |
//!
//! With `add --wait` and `wait` on a single job, the exit code is the job's own: its exit code;
//! 128 + N if a signal ended it; 124 if it timed out; 127 if it could not be started; 130 if
//! it was cancelled.
//!
//! A closed stdout (`nightshift ls | head -1`) is not an error: the command stops printing and
//! exits with the code it would have had (0 for commands that only print).

use crate::client::ClientError;
use nightshift_api::ErrorKind;
use std::process::ExitCode;

pub const FAILED: u8 = 1;
pub const NO_DAEMON: u8 = 3;
pub const NOT_FOUND: u8 = 4;
pub const WAIT_TIMEOUT: u8 = 5;
pub const JOB_TIMED_OUT: u8 = 124;
pub const JOB_NOT_STARTED: u8 = 127;
pub const JOB_CANCELLED: u8 = 130;

pub fn code_for(e: &anyhow::Error) -> ExitCode {
    match e.downcast_ref::<ClientError>() {
        Some(ClientError::NoDaemon { .. }) => ExitCode::from(NO_DAEMON),
        Some(ClientError::Api(api)) if api.code == ErrorKind::NotFound => ExitCode::from(NOT_FOUND),
        _ => ExitCode::from(FAILED),
    }
}
