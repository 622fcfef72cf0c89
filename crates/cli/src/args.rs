//! The command line, as clap derives it. Every flag is documented here; `nightshift help
//! <command>` prints it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nightshift",
    version,
    about = "Run and supervise background jobs on this machine"
)]
#[command(
    after_help = "Data folder: NIGHTSHIFT_HOME, or the platform's data folder. \
Exit codes: 0 ok, 1 failed or refused, 2 usage, 3 no daemon running, 4 no such job, 5 wait timed out."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Queue a job (or a batch of jobs) and print its id.
    Add(Box<AddArgs>),
    /// List jobs, newest first.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show one job and its attempts.
    Show(ShowArgs),
    /// Print a job's output.
    Logs(LogsArgs),
    /// Cancel jobs: queued ones never run, running ones are stopped (SIGTERM, then SIGKILL).
    Cancel(IdsArgs),
    /// Queue finished jobs again, with a fresh set of attempts.
    Retry(IdsArgs),
    /// Delete finished jobs with their logs and payloads.
    Rm(IdsArgs),
    /// Wait until jobs finish; exits with the job's code when waiting for one.
    Wait(WaitArgs),
    /// Hold every queue: nothing new starts until `resume`; running jobs go on.
    Pause(JsonArgs),
    /// Release every queue held by `pause`.
    Resume(JsonArgs),
    /// Show the power source: on AC or battery, and how full.
    Power(JsonArgs),
    /// List queues with their limits and job counts (same as `queue ls`).
    Queues(JsonArgs),
    /// Queues: list, create, change limits, pause and resume one queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// List recurring jobs (same as `schedule ls`).
    Schedules(JsonArgs),
    /// List worker pools and their workers (same as `worker ls`).
    Workers(JsonArgs),
    /// Worker pools: long-running workers that take the jobs of one queue (add, list, scale,
    /// stop, start, restart, remove).
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// Incidents: what needs you (list, show, ack, snooze, resolve; `incidents rules` shows
    /// each rule with its threshold or learned baseline).
    Incidents(IncidentsArgs),
    /// Recurring jobs (made with `add --every` or `add --cron`): list, pause, resume, run now,
    /// remove.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Show whether Nightshift is running, and its address.
    Status(StatusArgs),
    /// A live full-terminal view: queues, running jobs with CPU and memory, power, the last
    /// failures; keys pause or resume a queue, cancel or retry a job.
    Top(TopArgs),
    /// The report of the last hours: totals, success rate, percentiles per queue, jobs per
    /// hour, the commands that failed most, the slowest jobs, power holds, restarts.
    Report(ReportArgs),
    /// Run the engine and the local API without a window, until SIGINT or SIGTERM.
    Daemon(DaemonArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Queue to put the job in.
    #[arg(short, long, default_value = "default")]
    pub queue: String,
    /// Higher runs first within a queue.
    #[arg(short, long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i32,
    /// Stop the job after this long (e.g. 90s, 30m, 2h); it counts as a failed attempt.
    #[arg(short, long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Start no earlier than this time: HH:MM (today, or tomorrow if already past),
    /// "YYYY-MM-DD HH:MM" (local time), or RFC 3339 (2026-11-22T23:00:00+01:00).
    #[arg(long, value_name = "TIME", value_parser = crate::when::parse_at, conflicts_with = "in")]
    pub at: Option<i64>,
    /// Start no earlier than this long from now (e.g. 10m, 2h).
    #[arg(long = "in", value_name = "DURATION", value_parser = parse_duration)]
    pub r#in: Option<std::time::Duration>,
    /// Attempts in all (failures and timeouts use one; cancels do not). Default from config.
    #[arg(short = 'a', long)]
    pub attempts: Option<u32>,
    /// JSON payload: inline JSON, @FILE, or @- for stdin. The job reads it from the file named
    /// in $NIGHTSHIFT_PAYLOAD_FILE.
    #[arg(long, value_name = "JSON|@FILE")]
    pub payload: Option<String>,
    /// Extra environment variable for the job (repeatable).
    #[arg(short, long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Working directory (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Run the words as one line through /bin/sh -c (pipes, globs, &&).
    #[arg(long)]
    pub shell: bool,
    /// Ask for a desktop notification when the job ends.
    #[arg(long)]
    pub notify: bool,
    /// Leave the processes that left the job's process group (setsid, a daemon it started)
    /// running when an attempt ends; by default they are ended with it.
    #[arg(long)]
    pub leave_running: bool,
    /// A key: while a job with it is queued or running, print that job's id instead of adding
    /// another.
    #[arg(short, long, value_name = "KEY")]
    pub unique: Option<String>,
    /// Run only after these jobs have succeeded (repeatable, or comma-separated: --after 3,4).
    /// If one of them fails or is cancelled, this job is cancelled, saying why.
    #[arg(long, value_name = "ID", value_delimiter = ',', num_args = 1..)]
    pub after: Vec<nightshift_core::JobId>,
    /// Start only on AC power (on top of what the queue asks); on battery it waits, and says so.
    #[arg(long)]
    pub require_ac: bool,
    /// On battery, start only while the battery is at least this full (0 to 100; the higher of
    /// this and the queue's minimum applies). Held jobs start again 5 points above it.
    #[arg(long, value_name = "PERCENT", value_parser = nightshift_core::power_policy::parse_percent)]
    pub min_battery: Option<u8>,
    /// What happens if power is lost while it runs: finish (run to its end), pause (SIGSTOP
    /// until power is back; paused time does not count toward --timeout) or requeue (stop it
    /// and put it back in its queue without using an attempt). Default: the queue's.
    #[arg(long, value_name = "ACTION")]
    pub on_power_loss: Option<nightshift_core::OnPowerLoss>,
    /// Make it a recurring job: run it every this long (at least 1s; e.g. 15m, 1h, 1day). The
    /// first run is now, or at --at / --in. Prints the schedule instead of a job id.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_every,
          conflicts_with_all = ["cron", "wait", "batch", "unique", "after"])]
    pub every: Option<String>,
    /// Make it a recurring job at the times of a five-field cron expression in local time
    /// ("minute hour day-of-month month day-of-week", e.g. "30 2 * * *" for 02:30 daily).
    #[arg(long, value_name = "EXPR", value_parser = parse_cron,
          conflicts_with_all = ["wait", "batch", "unique", "after"])]
    pub cron: Option<String>,
    /// The recurring job's name (default: the program's name). With --every or --cron.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// With --every or --cron: skip fire times missed while Nightshift was not running or the
    /// machine slept, instead of one run to catch up.
    #[arg(long)]
    pub no_catch_up: bool,
    /// Wait for the job and exit with its exit code.
    #[arg(short, long, conflicts_with = "batch")]
    pub wait: bool,
    /// Queue every line of a JSON Lines file (or - for stdin) in one request; each line is a
    /// job like {"cmd": ["prog", "arg"], "queue": "q", "timeout": "5m", "payload": {...}}.
    /// Each line carries its own settings, so the flags for one job are refused with it.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "command", "payload", "env", "shell", "after", "require_ac", "min_battery",
        "on_power_loss", "every", "cron", "name", "no_catch_up", "unique", "at", "in",
        "timeout", "attempts", "notify", "cwd", "leave_running",
    ])]
    pub batch: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The program and its arguments, after `--`. In a queue served by a worker pool, the
    /// job's arguments for the worker instead (optional there: a payload may be all it needs).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only jobs in this state: queued, running, succeeded, failed or cancelled.
    #[arg(short, long)]
    pub state: Option<nightshift_core::JobState>,
    /// Only jobs of this queue.
    #[arg(short, long)]
    pub queue: Option<String>,
    /// How many jobs to show (1 to 1000).
    #[arg(short = 'n', long, default_value_t = 50)]
    pub limit: u32,
    /// Show jobs older than this id (for paging).
    #[arg(long)]
    pub before: Option<i64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub id: String,
    /// Keep printing output as it arrives, until the job finishes.
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines.
    #[arg(short = 'n', long)]
    pub tail: Option<usize>,
}

#[derive(Debug, Args)]
pub struct IdsArgs {
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Give up after this long (exit code 5).
    #[arg(short, long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Queues with their limits, whether paused, and job counts.
    Ls(JsonArgs),
    /// Create a queue (queues are also created by the first job added to them).
    Create(QueueSetArgs),
    /// Change a queue's limit or power policy (kept across restarts).
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["concurrency", "reset", "require_ac", "no_require_ac", "min_battery",
               "on_power_loss", "battery_concurrency", "timeout", "attempts", "retry_backoff",
               "unset"])))]
    Set(QueueSetArgs),
    /// Hold one queue: nothing new of it starts; running jobs go on.
    Pause(QueueNameArgs),
    /// Release a queue held by `queue pause`.
    Resume(QueueNameArgs),
}

#[derive(Debug, Args)]
pub struct QueueSetArgs {
    pub name: String,
    /// Jobs of this queue running at once (0 holds the queue).
    #[arg(short, long, conflicts_with = "reset")]
    pub concurrency: Option<u32>,
    /// Forget the limit set here; the config file's (or the default) applies again.
    #[arg(long)]
    pub reset: bool,
    /// Start jobs of this queue only on AC power; on battery they wait, and say why.
    #[arg(long, conflicts_with = "no_require_ac")]
    pub require_ac: bool,
    /// Start jobs of this queue on battery too.
    #[arg(long)]
    pub no_require_ac: bool,
    /// On battery, start jobs only while the battery is at least this full (0 to 100; 0 for no
    /// minimum). Held jobs start again 5 points above it.
    #[arg(long, value_name = "PERCENT", value_parser = nightshift_core::power_policy::parse_percent)]
    pub min_battery: Option<u8>,
    /// What happens to running jobs when power is lost: finish, pause (SIGSTOP until power is
    /// back) or requeue (stop and put back without using an attempt).
    #[arg(long, value_name = "ACTION")]
    pub on_power_loss: Option<nightshift_core::OnPowerLoss>,
    /// On battery, at most this many jobs of the queue run at once.
    #[arg(long, value_name = "N")]
    pub battery_concurrency: Option<u32>,
    /// Timeout for jobs added to the queue without --timeout (e.g. 2h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Attempts for jobs added to the queue without --attempts.
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
    /// Wait before the first retry of the queue's jobs (e.g. 30s); doubled for each further one.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_backoff: Option<std::time::Duration>,
    /// Forget a setting made here so the config file's applies again (repeatable): concurrency,
    /// require_ac, min_battery, on_power_loss, battery_concurrency, timeout, max_attempts or
    /// retry_backoff.
    #[arg(long, value_name = "SETTING")]
    pub unset: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IncidentsArgs {
    #[command(subcommand)]
    pub command: Option<IncidentCommand>,
    #[command(flatten)]
    pub ls: IncidentLsArgs,
}

#[derive(Debug, Args)]
pub struct IncidentLsArgs {
    /// Which: open (pending and active, the default), pending, active, resolved or all.
    #[arg(long, value_name = "STATE", default_value = "open",
          value_parser = ["open", "pending", "active", "resolved", "all"])]
    pub state: String,
    /// Only this queue's.
    #[arg(short, long)]
    pub queue: Option<String>,
    /// At most this many (newest first).
    #[arg(short = 'n', long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List incidents, newest first (the default).
    Ls(IncidentLsArgs),
    /// One incident: what triggered it, what to do, the jobs it is about, its timeline.
    Show(IncidentIdArgs),
    /// Acknowledge: no more reminders; it stays open until it resolves.
    #[command(alias = "acknowledge")]
    Ack(IncidentIdArgs),
    /// Silence reminders and attention for a while (1m to 30d).
    Snooze(IncidentSnoozeArgs),
    /// Resolve by hand; no new incident opens for the same condition until it clears.
    Resolve(IncidentIdArgs),
    /// Each rule: on or off, its threshold (or learned baseline), `for`, severity, and where
    /// its condition holds now.
    Rules(JsonArgs),
}

#[derive(Debug, Args)]
pub struct IncidentIdArgs {
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IncidentSnoozeArgs {
    pub id: i64,
    /// How long: 30m, 2h, 1d.
    #[arg(value_parser = parse_duration)]
    pub duration: std::time::Duration,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Define a pool and start its workers: `worker add NAME --queue Q [-c N] -- COMMAND...`.
    Add(WorkerAddArgs),
    /// Pools and their workers: state, pid, uptime, restarts, current job, jobs done and
    /// failed, last heard from.
    Ls(JsonArgs),
    /// Set how many workers a pool runs (extra ones stop after their job).
    Scale(WorkerScaleArgs),
    /// Restart every worker of a pool, each after its current job.
    Restart(WorkerNameArgs),
    /// Stop every worker of a pool, each after its current job, until `worker start`.
    Stop(WorkerNameArgs),
    /// Start the workers of a pool stopped with `worker stop`.
    Start(WorkerNameArgs),
    /// Remove a pool; its workers stop after their jobs. Refused while jobs wait in its queue.
    Rm(WorkerNameArgs),
}

#[derive(Debug, Args)]
pub struct WorkerAddArgs {
    /// The pool's name (letters, digits, '-', '_' or '.').
    pub name: String,
    /// The queue whose jobs the workers take (a queue has one pool).
    #[arg(short, long)]
    pub queue: String,
    /// How many workers run.
    #[arg(short, long, default_value_t = 1)]
    pub count: u32,
    /// An environment variable for the workers (repeatable).
    #[arg(short, long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// The workers' working directory (default: the current one).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// A busy worker must say something at least this often (e.g. 10s); after three intervals
    /// of silence it is unresponsive: killed, replaced, and its job run again.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub heartbeat: Option<std::time::Duration>,
    #[arg(long)]
    pub json: bool,
    /// The worker's program and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND", required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WorkerScaleArgs {
    pub name: String,
    /// How many workers (0 to 256).
    pub count: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorkerNameArgs {
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Recurring jobs with their times, next run and last run.
    Ls(JsonArgs),
    /// Stop adding runs until `schedule resume` (a run already added goes on).
    Pause(QueueNameArgs),
    /// Add runs again, from the next time after now (times passed while paused are skipped).
    Resume(QueueNameArgs),
    /// Add one run now, outside its times (nothing is added while a run is queued or running).
    Run(QueueNameArgs),
    /// Delete a recurring job (runs already added stay).
    Rm(QueueNameArgs),
}

#[derive(Debug, Args)]
pub struct QueueNameArgs {
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print only the link that opens the web UI in a browser (it carries the API token: keep
    /// it to yourself).
    #[arg(long, conflicts_with = "json")]
    pub url: bool,
    /// One line for a status bar or a log: the time, running, queued, success rate and p95 run
    /// time over --window, and power. Prints "not running" (exit 3) when Nightshift is not.
    #[arg(long, conflicts_with_all = ["json", "url"])]
    pub line: bool,
    /// The window of --line's success rate and p95 run time.
    #[arg(long, default_value = "1h", value_parser = parse_duration, requires = "line")]
    pub window: std::time::Duration,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Print the view once as plain text and exit (as when the output is not a terminal).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Hours back from now, 1 to 2160 (90 days).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=2160))]
    pub hours: u32,
    /// md (Markdown), html (one self-contained page with a chart) or json (the API's).
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write it to this file instead of the standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Port on 127.0.0.1 for the API (0: any free port). Overrides server.port in the config.
    #[arg(long)]
    pub port: Option<u16>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    nightshift_core::duration::parse(s)
}

fn parse_every(s: &str) -> Result<String, String> {
    nightshift_core::recurrence::Recurrence::every(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

fn parse_cron(s: &str) -> Result<String, String> {
    nightshift_core::recurrence::Recurrence::cron(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}
