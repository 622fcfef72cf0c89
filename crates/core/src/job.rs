//! Jobs, their states and their attempts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A job's id: a positive integer assigned by the store. Log files are named from it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

/// Ids from outside (a request body, a query string) are positive like those the store makes,
/// so a zero or negative id is refused where it is read, not looked up.
impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n: i64 = crate::whole::asked(d)?;
        if n > 0 {
            Ok(JobId(n))
        } else {
            Err(serde::de::Error::custom(format!(
                "job id must be a positive whole number, got {n}"
            )))
        }
    }
}

/// In the API's description: an integer from 1 to `i64::MAX`, whatever its context.
impl utoipa::PartialSchema for JobId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::job_id().into()
    }
}

impl utoipa::ToSchema for JobId {}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for JobId {
    type Err = String;
    /// Only plain positive decimal numbers are ids, so a path segment like `../x` never becomes one.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "job id must be a positive whole number, got '{}'",
                s.escape_debug()
            ));
        }
        match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(JobId(n)),
            _ => Err(format!(
                "job id must be a positive whole number up to {}, got '{s}'",
                i64::MAX
            )),
        }
    }
}

/// Where a job is in its life. `Succeeded`, `Failed` and `Cancelled` are final.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown state '{s}'; expected one of queued, running, succeeded, failed, cancelled")
            })
    }
}

/// How one attempt ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Claimed; the process may exist but its identity is not stored yet.
    Starting,
    /// Identity stored: the attempt counts as running.
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    /// Ended by a shutdown or crash of Nightshift itself, not by the job.
    Interrupted,
    /// The program could not be started at all.
    SpawnFailed,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 8] = [
        AttemptOutcome::Starting,
        AttemptOutcome::Running,
        AttemptOutcome::Succeeded,
        AttemptOutcome::Failed,
        AttemptOutcome::TimedOut,
        AttemptOutcome::Cancelled,
        AttemptOutcome::Interrupted,
        AttemptOutcome::SpawnFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Starting => "starting",
            AttemptOutcome::Running => "running",
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::TimedOut => "timed_out",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::Interrupted => "interrupted",
            AttemptOutcome::SpawnFailed => "spawn_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AttemptOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether this outcome uses up one of the job's attempts. A cancel or a graceful shutdown
    /// of Nightshift is not the job's fault, so it does not.
    pub fn consumes_attempt(self) -> bool {
        matches!(
            self,
            AttemptOutcome::Failed | AttemptOutcome::TimedOut | AttemptOutcome::SpawnFailed
        )
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user asks to run: validated, normalised, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobSpec {
    /// The program to execute (looked up in PATH when it has no slash).
    pub program: String,
    pub args: Vec<String>,
    /// True when the user asked for a shell: `program` is `/bin/sh` and `args` is `["-c", line]`.
    #[serde(default)]
    pub shell: bool,
    /// Variables added to (or overriding) the daemon's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Absolute working directory; `None` runs in the data directory.
    #[schema(value_type = Option<String>)]
    pub cwd: Option<PathBuf>,
    pub queue: String,
    #[serde(default)]
    pub priority: i32,
    pub timeout_ms: Option<u64>,
    pub max_attempts: u32,
    /// Ask the desktop shell for a notification when the job ends.
    #[serde(default)]
    pub notify: bool,
    /// While a job with this key is queued or running, adding another returns that job.
    #[serde(default)]
    pub unique_key: Option<String>,
    /// Start only on AC power (in addition to what its queue asks).
    #[serde(default)]
    pub require_ac: bool,
    /// On battery, start only while the battery is at least this full (in addition to its
    /// queue's minimum; the higher one applies).
    #[serde(default)]
    pub min_battery: Option<u8>,
    /// What to do when power is lost while it runs; `None`: its queue's choice.
    #[serde(default)]
    pub on_power_loss: Option<crate::OnPowerLoss>,
    /// Processes that left the job's process group (setsid, setpgid, a daemon) live on after
    /// the attempt instead of being killed with it; the group itself is still ended.
    #[serde(default)]
    pub leave_running: bool,
}

/// A job spec that cannot be run, with a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

pub const MAX_QUEUE_NAME: usize = 64;
pub const MAX_ATTEMPTS_LIMIT: u32 = 1000;

/// Checks a queue name: 1 to 64 of letters, digits, `-`, `_` and `.`.
pub fn validate_queue_name(name: &str) -> Result<(), SpecError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_QUEUE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(SpecError(format!(
            "invalid queue name '{}': use 1 to {MAX_QUEUE_NAME} letters, digits, '-', '_' or '.'",
            name.escape_debug()
        )))
    }
}

/// The longest single argument or environment entry Linux passes to a program
/// (`MAX_ARG_STRLEN`, 32 pages of 4 KiB); a longer one fails the spawn with E2BIG.
pub const MAX_ARG_BYTES: usize = 128 * 1024;
/// The most a job's command line and own environment may take together. The kernel's limit
/// (`ARG_MAX`) is a quarter of the stack limit, 2 MiB by default, and it also counts the
/// daemon's environment that every job inherits, so a job gets half of the default.
pub const MAX_COMMAND_BYTES: usize = 1024 * 1024;

/// Refuses a command line the kernel would refuse at spawn time (E2BIG), counting as the kernel
/// does: each string with its NUL, and a pointer for each.
fn command_fits(
    program: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Result<(), SpecError> {
    let strings = std::iter::once(program.len())
        .chain(args.iter().map(String::len))
        .chain(env.iter().map(|(k, v)| k.len() + 1 + v.len()));
    let mut total: usize = 0;
    for len in strings {
        if len >= MAX_ARG_BYTES {
            return Err(SpecError(format!(
                "an argument or environment entry is {len} bytes; the system passes at most \
                 {MAX_ARG_BYTES} bytes in one (put large input in the payload instead)"
            )));
        }
        total = total.saturating_add(len + 1 + std::mem::size_of::<usize>());
    }
    if total > MAX_COMMAND_BYTES {
        return Err(SpecError(format!(
            "the command line and environment take {total} bytes, over the limit of \
             {MAX_COMMAND_BYTES} (put large input in the payload instead)"
        )));
    }
    Ok(())
}

impl JobSpec {
    /// A spec for `cmd` (program then arguments) on `queue`, with one attempt and no limits.
    pub fn command(cmd: &[&str], queue: &str) -> JobSpec {
        JobSpec {
            program: cmd.first().copied().unwrap_or_default().to_string(),
            args: cmd.iter().skip(1).map(|s| s.to_string()).collect(),
            shell: false,
            env: BTreeMap::new(),
            cwd: None,
            queue: queue.to_string(),
            priority: 0,
            timeout_ms: None,
            max_attempts: 1,
            notify: false,
            unique_key: None,
            require_ac: false,
            min_battery: None,
            on_power_loss: None,
            leave_running: false,
        }
    }

    /// Checks everything the operating system would otherwise reject at spawn time, so bad
    /// input is refused when it is submitted rather than failing later.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.program.is_empty() {
            return Err(SpecError(
                "the command is empty: give a program to run".into(),
            ));
        }
        self.validate_rest()
    }

    /// Checks a job for a worker pool's queue: it has no program (the worker runs it); its
    /// words are arguments sent to the worker, checked like a command's.
    pub fn validate_for_worker(&self) -> Result<(), SpecError> {
        if !self.program.is_empty() || self.shell {
            return Err(SpecError(
                "a job for a worker pool has no program of its own: its words are arguments \
                 for the worker"
                    .into(),
            ));
        }
        self.validate_rest()
    }

    fn validate_rest(&self) -> Result<(), SpecError> {
        let nul = |s: &str| s.contains('\0');
        if nul(&self.program) || self.args.iter().any(|a| nul(a)) {
            return Err(SpecError(
                "the command contains a NUL byte, which no program can receive".into(),
            ));
        }
        for (key, value) in &self.env {
            if key.is_empty() || key.contains('=') || nul(key) || nul(value) {
                return Err(SpecError(format!(
                    "invalid environment variable name '{}': it must be non-empty, without '=' or NUL",
                    key.escape_debug()
                )));
            }
        }
        command_fits(&self.program, &self.args, &self.env)?;
        if let Some(cwd) = &self.cwd
            && cwd.as_os_str().as_encoded_bytes().contains(&0)
        {
            return Err(SpecError(
                "the working directory contains a NUL byte, which no path can hold".into(),
            ));
        }
        if let Some(cwd) = &self.cwd
            && !cwd.is_absolute()
        {
            return Err(SpecError(format!(
                "working directory '{}' must be an absolute path",
                cwd.display()
            )));
        }
        validate_queue_name(&self.queue)?;
        if self.max_attempts == 0 || self.max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(SpecError(format!(
                "max attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}, got {}",
                self.max_attempts
            )));
        }
        if let Some(key) = &self.unique_key
            && (key.is_empty() || key.chars().count() > 200 || key.contains('\0'))
        {
            return Err(SpecError(
                "a unique key must be 1 to 200 characters, without NUL".into(),
            ));
        }
        if let Some(min) = self.min_battery {
            crate::power_policy::validate_min_battery(min).map_err(SpecError)?;
        }
        if self.timeout_ms == Some(0) {
            return Err(SpecError("timeout must be longer than zero".into()));
        }
        Ok(())
    }

    /// The command as a person would type it, for tables and logs. A worker pool's job (no
    /// program) shows its arguments after "worker:".
    pub fn display_command(&self) -> String {
        if self.shell
            && let Some(line) = self.args.get(1)
        {
            return line.clone();
        }
        if self.program.is_empty() {
            let args: Vec<String> = self.args.iter().map(|a| shell_quote(a)).collect();
            return format!("worker: {}", args.join(" ")).trim_end().to_string();
        }
        std::iter::once(&self.program)
            .chain(self.args.iter())
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    pub state: JobState,
    #[serde(flatten)]
    pub spec: JobSpec,
    /// Size in bytes of the JSON payload, if the job has one.
    pub payload_size: Option<u64>,
    /// Attempts that counted against `max_attempts` (failures and timeouts).
    pub attempts_used: u32,
    /// Attempts made in all, including cancelled and interrupted ones.
    pub attempt_count: u32,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the latest attempt started.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Why the job ended the way it did, in words ("timed out after 30m", "cancelled by user").
    pub reason: Option<String>,
    /// A queued job waits until this time (Unix ms): scheduled, or backing off before a retry.
    pub run_at: Option<i64>,
    /// A queued job set aside because its own power needs are not met (it is looked at again
    /// when power changes, not on every dispatch).
    #[serde(default)]
    pub power_held: bool,
    /// Jobs it runs after (`--after`) that have not succeeded yet.
    #[serde(default)]
    pub waiting_on: u32,
}

/// One run of a job's command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: i64,
    pub job_id: JobId,
    pub number: u32,
    pub pid: Option<i32>,
    pub pgid: Option<i32>,
    /// The leader's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    pub start_ticks: Option<u64>,
    pub boot_id: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub outcome: AttemptOutcome,
    /// CPU time of its process group, in milliseconds, as last sampled (every second while it
    /// runs); absent when it ended before its first sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<u64>,
    /// The most resident memory its process group held at once (the members' sum), in bytes,
    /// over the samples; absent when it ended before its first sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    /// The worker that ran it ("pool/slot"), for a job of a worker pool's queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The value the worker's result carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// What an attempt's process group used, from the samples taken while it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptUsage {
    pub cpu_ms: u64,
    pub peak_rss_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_plain_positive_numbers() {
        assert_eq!("42".parse::<JobId>().unwrap(), JobId(42));
        for bad in [
            "",
            "0",
            "-1",
            "../etc",
            "4 2",
            "1e3",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert!(bad.parse::<JobId>().is_err(), "{bad} accepted");
        }
        // Every id the store can make parses, 19 digits included.
        assert_eq!(
            "9223372036854775807".parse::<JobId>().unwrap(),
            JobId(i64::MAX)
        );
        assert!(serde_json::from_str::<JobId>("0").is_err());
        assert!(serde_json::from_str::<JobId>("-3").is_err());
        assert_eq!(serde_json::from_str::<JobId>("7").unwrap(), JobId(7));
    }

    proptest::proptest! {
        #[test]
        fn an_id_parses_exactly_when_it_is_a_positive_i64(text in "[-+0-9a-z ./]{0,21}") {
            let expected = text.bytes().all(|b| b.is_ascii_digit())
                && text.parse::<i64>().is_ok_and(|n| n > 0);
            proptest::prop_assert_eq!(text.parse::<JobId>().is_ok(), expected, "{}", text);
        }

        #[test]
        fn every_positive_id_round_trips(n in 1i64..=i64::MAX) {
            proptest::prop_assert_eq!(n.to_string().parse::<JobId>().unwrap(), JobId(n));
        }

        #[test]
        fn a_command_is_refused_or_valid_never_a_panic(
            args in proptest::collection::vec(".{0,8}", 0..4),
            big in 0usize..(MAX_ARG_BYTES * 2),
        ) {
            let mut spec = JobSpec::command(&["prog"], "default");
            spec.args = args;
            spec.args.push("x".repeat(big));
            let result = spec.validate();
            if big >= MAX_ARG_BYTES {
                proptest::prop_assert!(result.is_err());
            }
        }
    }

    #[test]
    fn a_command_the_kernel_would_refuse_is_refused_at_the_door() {
        let mut spec = JobSpec::command(&["true"], "default");
        spec.args = vec!["a".repeat(MAX_ARG_BYTES)];
        let err = spec.validate().unwrap_err().0;
        assert!(err.contains("at most 131072 bytes"), "{err}");
        spec.args = vec!["a".repeat(MAX_ARG_BYTES / 2); 20];
        let err = spec.validate().unwrap_err().0;
        assert!(err.contains("over the limit"), "{err}");
        spec.args = vec![];
        spec.cwd = Some(std::path::PathBuf::from("/tmp/a\0b"));
        let err = spec.validate().unwrap_err().0;
        assert!(err.contains("NUL"), "{err}");
    }

    /// Ids are whole numbers however JSON writes them (`7.0`), and still only positive ones.
    #[test]
    fn ids_written_as_floats_are_ids() {
        assert_eq!(serde_json::from_str::<JobId>("7.0").unwrap(), JobId(7));
        assert_eq!(serde_json::from_str::<JobId>("7e2").unwrap(), JobId(700));
        for bad in ["7.5", "0.0", "-1.0", "1e19", "\"7\""] {
            assert!(
                serde_json::from_str::<JobId>(bad).is_err(),
                "{bad} accepted"
            );
        }
        // Map keys (ids in `paused` of the power view) are read from their text.
        let map: BTreeMap<JobId, u8> = serde_json::from_str(r#"{"12": 1}"#).unwrap();
        assert_eq!(map.get(&JobId(12)), Some(&1));
    }

    /// The limit of a unique key is in characters, as its message says, not in bytes.
    #[test]
    fn a_unique_key_is_counted_in_characters() {
        let mut spec = JobSpec::command(&["true"], "default");
        spec.unique_key = Some("é".repeat(200));
        assert!(spec.validate().is_ok());
        spec.unique_key = Some("é".repeat(201));
        assert!(
            spec.validate()
                .unwrap_err()
                .0
                .contains("1 to 200 characters")
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let mut spec = JobSpec::command(&["true"], "default");
        assert!(spec.validate().is_ok());
        spec.queue = "no spaces".into();
        assert!(spec.validate().unwrap_err().0.contains("queue name"));
        spec.queue = "ok".into();
        spec.cwd = Some("relative".into());
        assert!(spec.validate().unwrap_err().0.contains("absolute"));
        spec.cwd = None;
        spec.max_attempts = 0;
        assert!(spec.validate().unwrap_err().0.contains("max attempts"));
    }

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let spec = JobSpec::command(&["echo", "a b", "it's"], "q");
        assert_eq!(spec.display_command(), r"echo 'a b' 'it'\''s'");
    }

    #[test]
    fn states_round_trip_through_text() {
        for st in JobState::ALL {
            assert_eq!(st.as_str().parse::<JobState>().unwrap(), st);
        }
        for o in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(o.as_str()), Some(o));
        }
    }
}
