//! Command-line flags and the sizes of each measurement (full, or `--quick` for a smoke run).

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: nightshift-bench [--quick] [--json PATH] [--bin PATH] [--only NAME,...]

  --quick      shrink every count about 10x (a smoke run of under a minute)
  --json PATH  also write every figure as JSON to PATH
  --bin PATH   the nightshift binary for the daemon figures (throughput, metrics,
               sampling, pools, idle) (default: `nightshift` beside this program)
  --only NAMES take only these measurements, named by comma: latency, throughput,
               enqueue, http, claim, power, metrics, scrape, history, sampling, pools,
               incidents, idle, desktop (default: all)

The desktop-app figures run `nightshift-desktop` and `nightshift-bare-tray` from beside this
program, on a private Xvfb display and session bus (Debian packages xvfb and dbus).";

/// The names `--only` takes, in the order the measurements run.
pub const MEASUREMENTS: [&str; 14] = [
    "latency",
    "throughput",
    "enqueue",
    "http",
    "claim",
    "power",
    "metrics",
    "scrape",
    "history",
    "sampling",
    "pools",
    "incidents",
    "idle",
    "desktop",
];

impl Options {
    /// Whether the measurement called `name` is to be taken.
    pub fn takes(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|n| n == name))
    }
}

/// What the user asked for.
#[derive(Debug)]
pub struct Options {
    pub quick: bool,
    pub json: Option<PathBuf>,
    pub bin: PathBuf,
    /// The measurements to take (by the names in `MEASUREMENTS`); `None`: all.
    pub only: Option<Vec<String>>,
    /// The folder holding `nightshift-desktop` and `nightshift-bare-tray`: this program's own.
    pub apps_dir: PathBuf,
    pub sizes: Sizes,
}

/// How much work each measurement does.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Jobs run one after another for the dispatch latency.
    pub latency_jobs: usize,
    /// `/bin/true` jobs in the throughput batch.
    pub throughput_jobs: usize,
    /// Jobs in one batched enqueue (in-process and over HTTP).
    pub enqueue_jobs: usize,
    /// Sequential single-job requests over HTTP.
    pub http_requests: usize,
    /// Claim+complete cycles timed at each table size.
    pub claim_iterations: usize,
    /// Finished rows in the small and the large table.
    pub claim_small_rows: usize,
    pub claim_large_rows: usize,
    /// How long the idle daemon's, and the idle desktop app's, wake-ups are counted.
    pub idle_window: Duration,
    /// Jobs held for AC power (across 50 queues) when it returns, and as many for the
    /// baseline; rounds of each, a fresh engine every time.
    pub power_wait_jobs: usize,
    pub power_wait_baseline_jobs: usize,
    pub power_wait_rounds: usize,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            latency_jobs: 500,
            throughput_jobs: 5_000,
            enqueue_jobs: 20_000,
            http_requests: 5_000,
            claim_iterations: 1_000,
            claim_small_rows: 1_000,
            claim_large_rows: 1_000_000,
            idle_window: Duration::from_secs(10),
            power_wait_jobs: 100_000,
            power_wait_baseline_jobs: 1_000,
            power_wait_rounds: 5,
        }
    }

    pub fn quick() -> Sizes {
        Sizes {
            latency_jobs: 100,
            throughput_jobs: 500,
            enqueue_jobs: 2_000,
            http_requests: 500,
            claim_iterations: 1_000,
            claim_small_rows: 1_000,
            claim_large_rows: 100_000,
            idle_window: Duration::from_secs(3),
            power_wait_jobs: 10_000,
            power_wait_baseline_jobs: 1_000,
            power_wait_rounds: 2,
        }
    }
}

/// What `parse` found: options to run with, or a request for the usage text.
#[derive(Debug)]
pub enum Parsed {
    Run(Options),
    Help,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Parsed> {
    let mut quick = false;
    let mut json = None;
    let mut bin = None;
    let mut only = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .map(PathBuf::from)
                .with_context(|| format!("{flag} needs a path\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = Some(value("--json")?),
            "--bin" => bin = Some(value("--bin")?),
            "--only" => {
                let names: Vec<String> = value("--only")?
                    .to_string_lossy()
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(unknown) = names.iter().find(|n| !MEASUREMENTS.contains(&n.as_str())) {
                    bail!(
                        "--only: no measurement is called '{unknown}' (there are {})\n\n{USAGE}",
                        MEASUREMENTS.join(", ")
                    );
                }
                only = Some(names);
            }
            "-h" | "--help" => return Ok(Parsed::Help),
            other => bail!("unknown argument '{other}'\n\n{USAGE}"),
        }
    }
    let exe = std::env::current_exe().context("cannot find this program's own path")?;
    let apps_dir = exe
        .parent()
        .context("this program has no folder")?
        .to_path_buf();
    let bin = bin.unwrap_or_else(|| apps_dir.join("nightshift"));
    Ok(Parsed::Run(Options {
        quick,
        json,
        bin,
        only,
        apps_dir,
        sizes: if quick { Sizes::quick() } else { Sizes::full() },
    }))
}
