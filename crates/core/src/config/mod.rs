//! The user's configuration: a TOML file, written with every key commented on first run.
//!
//! Every key has a default; unknown keys are refused with their name so a typo never silently
//! falls back to a default.

use crate::duration::serde_human;
use crate::job::validate_queue_name;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod alerts;
mod incidents;
mod pools;
pub use alerts::{AlertsConfig, WebhookConfig, check_url};
pub use incidents::{IncidentsConfig, RuleConfig};
pub use pools::PoolConfig;

/// The commented default file, written on first run. Its keys are checked against the defaults
/// by a test, so the documentation cannot drift from the code.
pub const DEFAULT_CONFIG: &str = include_str!("../default-config.toml");

pub const DEFAULT_PORT: u16 = 8091;
pub const DEFAULT_MAX_PAYLOAD: u64 = 10 * 1024 * 1024;
pub const DEFAULT_LOG_MAX: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub jobs: JobsConfig,
    pub desktop: DesktopConfig,
    pub power: PowerConfig,
    pub metrics: MetricsConfig,
    pub workers: WorkersConfig,
    /// Per-queue settings by queue name. Queues not listed here use the `[jobs]` defaults.
    pub queues: BTreeMap<String, QueueConfig>,
    /// Worker pools by name, created (or brought in line) at each start.
    pub pools: BTreeMap<String, PoolConfig>,
    /// Incident rules and their lifecycle.
    pub incidents: IncidentsConfig,
    /// Where incidents are sent besides the desktop.
    pub alerts: AlertsConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Longest a client may take to send a request's line and headers, from its first byte.
    #[serde(with = "serde_human")]
    pub header_timeout: Duration,
    /// Longest a request's body may take to arrive once its handler reads it, and longest a
    /// response may wait for the client to take the next part of it.
    #[serde(with = "serde_human")]
    pub body_timeout: Duration,
    /// Longest an open connection may sit between requests before it is closed.
    #[serde(with = "serde_human")]
    pub idle_timeout: Duration,
    /// Connections open at once; past it a new connection is answered 503 and closed.
    pub max_connections: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: DEFAULT_PORT,
            // Every client is a local program or page: a request line and headers take well
            // under a millisecond, so ten seconds is only reached by a client that stalls.
            header_timeout: Duration::from_secs(10),
            // The largest body (a 256 MiB batch) crosses the loopback in about a second; thirty
            // leave room for a busy machine.
            body_timeout: Duration::from_secs(30),
            // Longer than the gaps between a CLI's or the window's requests, so clients keep
            // their connection, short enough that forgotten ones are let go.
            idle_timeout: Duration::from_secs(60),
            // Far above what the CLI, the window and a few scripts open, far below the open
            // file limit (1024 by default), so the engine keeps descriptors for its jobs.
            max_connections: 256,
        }
    }
}

/// SQLite's `synchronous` setting: NORMAL loses at most the last transactions on power loss
/// (never corrupts, in WAL mode); FULL survives power loss at the cost of an fsync per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    #[default]
    Normal,
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub synchronous: Synchronous,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs running at once per queue; 0 means the number of CPU cores.
    pub concurrency: u32,
    /// Time between SIGTERM and SIGKILL when a job is cancelled, times out or Nightshift quits.
    #[serde(with = "serde_human")]
    pub kill_grace: Duration,
    /// Largest accepted JSON payload, in bytes.
    pub max_payload_bytes: u64,
    /// Most output kept per job, in bytes; the newest output is kept.
    pub log_max_bytes: u64,
    /// Attempts a job gets when `add` does not say.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one, with jitter.
    #[serde(with = "serde_human")]
    pub retry_backoff: Duration,
    /// The longest wait between retries.
    #[serde(with = "serde_human")]
    pub retry_backoff_max: Duration,
    /// Crashes of Nightshift in a row during a job's attempts before the job fails (they do
    /// not use its attempts).
    pub max_interruptions: u32,
    /// No new job starts while the system's CPU use is above this percent; unset: no ceiling.
    pub max_cpu: Option<u8>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            concurrency: 0,
            kill_grace: Duration::from_secs(10),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD,
            log_max_bytes: DEFAULT_LOG_MAX,
            max_attempts: 1,
            retry_backoff: Duration::from_secs(5),
            retry_backoff_max: Duration::from_secs(600),
            max_interruptions: 3,
            max_cpu: None,
        }
    }
}

/// Where power information comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PowerSourceKind {
    /// The machine's own (sysfs on Linux).
    #[default]
    System,
    /// A JSON file, `{"on_ac": false, "percent": 42}`, for demos and tests.
    Simulated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerConfig {
    pub source: PowerSourceKind,
    /// The simulated source's file; relative paths are under the data folder.
    pub simulated_file: PathBuf,
    /// How often a source that can change is read (a machine without a battery is never polled).
    #[serde(with = "serde_human")]
    pub poll: Duration,
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            source: PowerSourceKind::System,
            simulated_file: PathBuf::from("power.json"),
            poll: Duration::from_secs(2),
        }
    }
}

/// The history of the work kept in the database (see docs/metrics.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Count the work, keep its history and sample running jobs' CPU and memory. Off: the
    /// counts stay at zero, no history is written and nothing is sampled.
    pub enabled: bool,
    /// How long the per-minute rows are kept; older minutes live on in their hour's row.
    #[serde(with = "serde_human")]
    pub minutes_kept: Duration,
    /// How long the per-hour rows are kept.
    #[serde(with = "serde_human")]
    pub hours_kept: Duration,
    /// An address (`0.0.0.0:9464`) on which `GET /metrics` alone is served, for a Prometheus on
    /// another machine; unset: only the local API serves it.
    pub listen: Option<std::net::SocketAddr>,
    /// The bearer token the `listen` address asks for, in this file (relative: under the data
    /// folder; made with a random token if missing); unset: that address asks for none.
    pub listen_token_file: Option<PathBuf>,
}

/// How worker pools restart their workers (docs/workers.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// The wait before restarting a worker that exited; doubled for each quick exit in a row.
    #[serde(with = "serde_human")]
    pub restart_backoff: Duration,
    /// The longest wait before a restart.
    #[serde(with = "serde_human")]
    pub restart_backoff_max: Duration,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        let backoff = crate::worker::backoff::Backoff::default();
        WorkersConfig {
            restart_backoff: backoff.initial,
            restart_backoff_max: backoff.max,
        }
    }
}

impl WorkersConfig {
    /// The restart policy these settings make (a run as long as the longest wait resets it).
    pub fn backoff(&self) -> crate::worker::backoff::Backoff {
        crate::worker::backoff::Backoff {
            initial: self.restart_backoff,
            max: self.restart_backoff_max,
            reset_after: self.restart_backoff_max,
            ..Default::default()
        }
    }
}

/// The shortest `minutes_kept`: summaries and trends over the last day read minutes.
pub const MIN_MINUTES_KEPT: Duration = Duration::from_secs(2 * 3600);
/// The longest either history may be kept (ten years), so times computed from it cannot
/// overflow.
pub const MAX_KEPT: Duration = Duration::from_secs(10 * 366 * 86400);

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            minutes_kept: Duration::from_secs(48 * 3600),
            hours_kept: Duration::from_secs(90 * 86400),
            listen: None,
            listen_token_file: None,
        }
    }
}

/// The desktop app's settings (the headless daemon ignores them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DesktopConfig {
    /// Desktop notifications: a job failed for good, a `--notify` job finished, jobs were
    /// recovered after an unclean stop.
    pub notifications: bool,
    /// Start at login: true or false is applied at every start; unset leaves it to the tray
    /// menu's checkbox.
    pub autostart: Option<bool>,
}

impl Default for DesktopConfig {
    fn default() -> Self {
        DesktopConfig {
            notifications: true,
            autostart: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Jobs of this queue running at once; unset uses `jobs.concurrency`. 0 holds the queue.
    pub concurrency: Option<u32>,
    /// Start jobs of this queue only on AC power.
    pub require_ac: Option<bool>,
    /// On battery, start jobs only while the battery is at least this full (percent). Held
    /// jobs start again a few points above it, so a battery at the line does not flap.
    pub min_battery: Option<u8>,
    /// What happens to a running job when power is lost: finish, pause or requeue.
    pub on_power_loss: Option<crate::OnPowerLoss>,
    /// On battery, at most this many jobs of the queue start (when lower than `concurrency`).
    pub battery_concurrency: Option<u32>,
    /// Timeout for jobs added without one.
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Attempts for jobs added without `--attempts`.
    pub max_attempts: Option<u32>,
    /// First retry's wait for this queue's jobs (see `jobs.retry_backoff`).
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_backoff: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write the default config file {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads the config file, writing the commented default first if there is none.
    pub fn load_or_init(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text).map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_default(path).map_err(|error| ConfigError::Write {
                    path: path.to_path_buf(),
                    error,
                })?;
                Ok(Config::default())
            }
            Err(error) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                error,
            }),
        }
    }

    /// Parses config text and checks values a type cannot express.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        pools::check(&self.pools)?;
        self.incidents.check()?;
        self.alerts.check()?;
        for (name, queue) in &self.queues {
            validate_queue_name(name).map_err(|e| format!("[queues.{name}]: {e}"))?;
            if queue.min_battery.is_some_and(|p| p > 100) {
                return Err(format!(
                    "[queues.{name}] min_battery must be a percent from 0 to 100"
                ));
            }
            let limit = crate::job::MAX_ATTEMPTS_LIMIT;
            if queue.max_attempts.is_some_and(|n| n == 0 || n > limit) {
                return Err(format!(
                    "[queues.{name}] max_attempts must be between 1 and {limit}"
                ));
            }
            if queue.battery_concurrency == Some(0) {
                return Err(format!(
                    "[queues.{name}] battery_concurrency must be at least 1 (to hold the queue \
                     on battery, set require_ac = true)"
                ));
            }
            if queue.timeout.is_some_and(|t| t.is_zero()) {
                return Err(format!("[queues.{name}] timeout must be longer than zero"));
            }
        }
        let limit = crate::job::MAX_ATTEMPTS_LIMIT;
        if self.jobs.max_attempts == 0 || self.jobs.max_attempts > limit {
            return Err(format!("jobs.max_attempts must be between 1 and {limit}"));
        }
        if self.jobs.max_interruptions == 0 || self.jobs.max_interruptions > limit {
            return Err(format!(
                "jobs.max_interruptions must be between 1 and {limit}"
            ));
        }
        if self.jobs.max_cpu.is_some_and(|p| p == 0 || p > 100) {
            return Err("jobs.max_cpu must be a percent from 1 to 100".into());
        }
        if self.power.poll < Duration::from_secs(1) {
            return Err("power.poll must be at least 1s (each poll wakes the engine)".into());
        }
        let server = &self.server;
        for (key, value) in [
            ("header_timeout", server.header_timeout),
            ("body_timeout", server.body_timeout),
            ("idle_timeout", server.idle_timeout),
        ] {
            if value.is_zero() {
                return Err(format!("server.{key} must be longer than zero"));
            }
        }
        if server.max_connections == 0 {
            return Err("server.max_connections must be at least 1".into());
        }
        let metrics = &self.metrics;
        if metrics.minutes_kept < MIN_MINUTES_KEPT || metrics.minutes_kept > MAX_KEPT {
            return Err("metrics.minutes_kept must be between 2h and 10 years".into());
        }
        if metrics.hours_kept < metrics.minutes_kept || metrics.hours_kept > MAX_KEPT {
            return Err(
                "metrics.hours_kept must be at least metrics.minutes_kept and at most 10 years"
                    .into(),
            );
        }
        if metrics.listen_token_file.is_some() && metrics.listen.is_none() {
            return Err(
                "metrics.listen_token_file is set but metrics.listen is not: the token is for \
                 the listen address"
                    .into(),
            );
        }
        if self.jobs.log_max_bytes < 4096 {
            return Err("jobs.log_max_bytes must be at least 4096".into());
        }
        let workers = &self.workers;
        if workers.restart_backoff.is_zero()
            || workers.restart_backoff > workers.restart_backoff_max
            || workers.restart_backoff_max > Duration::from_secs(86400)
        {
            return Err(
                "workers.restart_backoff must be longer than zero and at most \
                 workers.restart_backoff_max, which is at most 1d"
                    .into(),
            );
        }
        Ok(())
    }

    /// The concurrency limit of `queue`.
    pub fn queue_concurrency(&self, queue: &str) -> u32 {
        self.queues
            .get(queue)
            .and_then(|q| q.concurrency)
            .unwrap_or_else(|| self.default_concurrency())
    }

    pub fn default_concurrency(&self) -> u32 {
        if self.jobs.concurrency > 0 {
            self.jobs.concurrency
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1)
        }
    }
}

fn write_default(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // create_new: two first runs racing must not clobber each other's (identical) file.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => std::io::Write::write_all(&mut file, DEFAULT_CONFIG.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default file with every `# key = value` line switched on.
    fn uncommented_default() -> String {
        DEFAULT_CONFIG
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_commented_default_documents_exactly_the_defaults() {
        assert_eq!(Config::parse(DEFAULT_CONFIG).unwrap(), Config::default());
        let mut expected = Config::default();
        expected.desktop.autostart = Some(false);
        expected.jobs.max_cpu = Some(90);
        expected.metrics.listen = Some("0.0.0.0:9464".parse().unwrap());
        expected.metrics.listen_token_file = Some("metrics-token".into());
        expected.queues.insert(
            "index".into(),
            QueueConfig {
                concurrency: Some(2),
                require_ac: Some(true),
                min_battery: Some(30),
                on_power_loss: Some(crate::OnPowerLoss::Pause),
                battery_concurrency: Some(1),
                timeout: Some(Duration::from_secs(7200)),
                max_attempts: Some(3),
                retry_backoff: Some(Duration::from_secs(30)),
            },
        );
        expected.pools.insert(
            "embedders".into(),
            PoolConfig {
                queue: "embed".into(),
                count: 2,
                command: vec!["python3".into(), "worker.py".into()],
                env: [("MODEL".to_string(), "small".to_string())].into(),
                cwd: Some("/home/me/embedder".into()),
                heartbeat: Some(Duration::from_secs(10)),
            },
        );
        expected.incidents.rules.insert(
            "failure_rate".into(),
            RuleConfig {
                threshold: Some(35.0),
                for_: Some(Duration::from_secs(120)),
                severity: Some(crate::incident::Severity::Critical),
                queues: Some(vec!["mail".into()]),
                window: Some(Duration::from_secs(1800)),
                min_jobs: Some(20),
                ..RuleConfig::default()
            },
        );
        expected.alerts.webhook.push(WebhookConfig {
            url: "https://hooks.example.com/services/T000/B000/XXXX".into(),
            min_severity: crate::incident::Severity::Warning,
        });
        assert_eq!(Config::parse(&uncommented_default()).unwrap(), expected);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = Config::parse("[jobs]\nkill_grase = \"5s\"\n").unwrap_err();
        assert!(err.contains("kill_grase"), "{err}");
        let err = Config::parse("[jobs]\nkill_grace = \"5\"\n").unwrap_err();
        assert!(err.contains("5s"), "{err}");
        let err = Config::parse("[queues.\"a b\"]\nconcurrency = 1\n").unwrap_err();
        assert!(err.contains("queue name"), "{err}");
        let err = Config::parse("[metrics]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(err.contains("listen"), "{err}");
        let err = Config::parse("[metrics]\nminutes_kept = \"10m\"\n").unwrap_err();
        assert!(err.contains("metrics.minutes_kept"), "{err}");
        let err = Config::parse("[metrics]\nlisten_token_file = \"t\"\n").unwrap_err();
        assert!(err.contains("metrics.listen"), "{err}");
    }

    #[test]
    fn server_limits_must_be_positive() {
        for (text, key) in [
            (
                "[server]\nheader_timeout = \"0s\"\n",
                "server.header_timeout",
            ),
            ("[server]\nbody_timeout = \"0s\"\n", "server.body_timeout"),
            ("[server]\nidle_timeout = \"0s\"\n", "server.idle_timeout"),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
        let config = Config::parse("[server]\nidle_timeout = \"250ms\"\n").unwrap();
        assert_eq!(config.server.idle_timeout, Duration::from_millis(250));
    }

    #[test]
    fn first_load_writes_the_commented_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.toml");
        assert_eq!(Config::load_or_init(&path).unwrap(), Config::default());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_CONFIG);
    }

    #[test]
    fn queue_concurrency_falls_back_to_the_default() {
        let config =
            Config::parse("[jobs]\nconcurrency = 3\n[queues.gpu]\nconcurrency = 1\n").unwrap();
        assert_eq!(config.queue_concurrency("gpu"), 1);
        assert_eq!(config.queue_concurrency("other"), 3);
    }
}
