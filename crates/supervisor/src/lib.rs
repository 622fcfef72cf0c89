//! Running a job's command as a process group and making sure the whole group ends.
//!
//! Every attempt is spawned as the leader of a new process group with `process_group(0)` (no
//! `pre_exec`, which would push std off the posix_spawn fast path). Its identity (pid, the
//! leader's start time and the boot id) is what lets a later instance recognise the group after
//! a crash, and refuse to signal a process that only reuses the pid; an attempt whose identity
//! was never stored is found by the tags in its processes' environment instead. Stopping a
//! group is SIGTERM, a grace period, SIGKILL, then a check that no member is left. Pausing it
//! is SIGSTOP until every member is stopped. Output from stdout and stderr goes through one
//! pipe into a per-job log file with a size cap that keeps the newest output. The pipe is read
//! asynchronously and let go when the attempt is over, so a process that left the group and
//! still holds the pipe cannot keep anything of ours running.
//!
//! Processes that leave the group (`setsid`, `setpgid`, a double fork) still belong to the
//! attempt: on Linux Nightshift is a child subreaper, so they stay its descendants and are
//! ended with the attempt (`escapes`), and their zombies are reaped without taking the exit
//! status of any child someone else waits for (`children`).
//!
//! `usage` sums what each running group uses (CPU time, resident memory) for the per-attempt
//! figures. Platform specifics (reading `/proc`) sit in `platform/`; see the invariants in
//! `nightshift-core`.

mod capture;
mod children;
mod escapes;
mod group;
pub mod identity;
pub mod logfile;
mod platform;
mod spawn;
mod tagged;
pub mod usage;

pub use capture::LogSwitch;
pub use children::{Orphans, OwnChild, adopt_orphans, keep_child};
pub use escapes::{Escaped, end_escaped};
pub use group::{GroupEnd, Reclaim, group_alive, pause, reclaim, resume, terminate};
pub use identity::Identity;
pub use spawn::{Exit, Running, RunningWorker, SpawnError, SpawnRequest, spawn, spawn_worker};
pub use tagged::{TaggedAttempt, reclaim_tagged};
