//! Nightshift's vocabulary: what a job is, the states it moves through, the attempts it makes,
//! the configuration a user writes, where files live, and the clock. Every other crate speaks
//! in these types; this one does no I/O beyond reading the config file, creating folders, and
//! the one way private files are written (`private`).
//!
//! Architecture invariants (DESIGN.md), kept by every engine crate:
//! 1. Only `nightshift-store` talks SQL.
//! 2. Engine crates never depend on tauri, axum, clap or notify-rust.
//! 3. Every front door is a thin call onto `nightshift-api`.
//! 4. No blocking SQLite or filesystem work on async executor threads.
//! 5. Dispatch is event driven; timers exist only for real deadlines.
//! 6. Time and power are injected, so tests never sleep to wait for a policy.
//! 7. Platform code sits behind one module per concern.

pub mod bytes;
pub mod clock;
pub mod config;
pub mod duration;
pub mod incident;
pub mod job;
pub mod metrics;
pub mod paths;
pub mod power_policy;
pub mod private;
pub mod recurrence;
pub mod schema;
pub mod timestamp;
pub mod whole;
pub mod worker;

pub use bytes::human_bytes;
pub use clock::{Clock, SystemClock};
pub use config::{
    Config, ConfigError, DesktopConfig, MetricsConfig, PowerConfig, PowerSourceKind, QueueConfig,
    Synchronous,
};
pub use job::{Attempt, AttemptOutcome, AttemptUsage, Job, JobId, JobSpec, JobState, SpecError};
pub use paths::Paths;
pub use power_policy::OnPowerLoss;
pub use recurrence::{CronSchedule, Plan, Recurrence, RecurrenceError};
