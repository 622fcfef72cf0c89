//! `nightshift-bench`, run by `cargo xtask bench`: measures Nightshift's performance figures
//! (DESIGN.md, "Performance") and prints each beside a raw baseline measured in the same run
//! on the same machine, with their ratio and the target from the issue. Dispatch latency,
//! throughput of trivial jobs (through the real daemon, with its CPU time per job, and
//! in-process; pueue's for scale when it is installed), batched enqueue (in-process and over
//! HTTP), single enqueues over
//! HTTP, claim+complete cost against table size, the first dispatch once AC power returns to
//! 100,000 jobs held for it (beside the same with 1,000), the idle daemon's memory and wake-ups
//! (also while it polls a power source that reports a battery), and the desktop app's memory
//! (window open, then tray only) and wake-ups beside a bare Tauri tray app.
//! Everything but the daemon's throughput, the idle daemon and the desktop app runs in this
//! process through Nightshift's own crates, each measurement on a fresh temporary data folder. It reports and does not gate:
//! a missed target still exits 0; only a measurement that cannot be taken makes the exit code
//! non-zero.
//! `--quick` shrinks every count about 10x for a smoke run; `--json PATH` also writes the
//! figures as JSON.

mod child;
mod claim;
mod daemon;
mod desktop;
mod enqueue;
mod harness;
mod http;
mod idle;
mod incidents;
mod latency;
mod options;
mod pools;
mod power_wait;
mod procfs;
mod pueue;
mod report;
mod session;
mod stats;
mod throughput;
mod watch;
mod x11;

use anyhow::{Context, bail};
use options::{Options, Parsed};
use report::Figure;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // Started by the pool figures as a worker (see `pools`).
    if std::env::args().nth(1).as_deref() == Some("--worker") {
        return pools::worker();
    }
    let options = match options::parse(std::env::args().skip(1))? {
        Parsed::Run(options) => options,
        Parsed::Help => {
            println!("{}", options::USAGE);
            return Ok(());
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nightshift-bench")
        .build()
        .context("cannot start the async runtime")?;
    let (figures, errors) = measure(&options, &runtime);
    println!();
    report::print_table(&figures, &errors);
    if let Some(path) = &options.json {
        report::write_json(path, options.quick, &figures, &errors)?;
        println!("figures written to {}", path.display());
    }
    if !errors.is_empty() {
        bail!("{} measurement(s) could not be taken", errors.len());
    }
    Ok(())
}

/// Takes every measurement in turn; one that fails is reported and the others still run.
fn measure(
    options: &Options,
    runtime: &tokio::runtime::Runtime,
) -> (Vec<Figure>, Vec<(String, String)>) {
    let sizes = options.sizes;
    let mut figures = Vec::new();
    let mut errors = Vec::new();
    let mut take =
        |key: &str, name: &str, measurement: &dyn Fn() -> anyhow::Result<Vec<Figure>>| {
            if !options.takes(key) {
                return;
            }
            eprintln!("measuring {name} ...");
            let started = std::time::Instant::now();
            match measurement() {
                Ok(taken) => {
                    eprintln!("  done in {:.1}s", started.elapsed().as_secs_f64());
                    figures.extend(taken);
                }
                Err(e) => {
                    eprintln!("  failed: {e:#}");
                    errors.push((name.to_string(), format!("{e:#}")));
                }
            }
        };
    take(
        "latency",
        &format!("dispatch latency ({} jobs)", sizes.latency_jobs),
        &|| runtime.block_on(latency::run(sizes.latency_jobs)),
    );
    take(
        "throughput",
        &format!("throughput ({} jobs)", sizes.throughput_jobs),
        &|| runtime.block_on(throughput::run(&options.bin, sizes.throughput_jobs)),
    );
    take(
        "enqueue",
        &format!("batched enqueue ({} jobs)", sizes.enqueue_jobs),
        &|| runtime.block_on(enqueue::run(sizes.enqueue_jobs)),
    );
    take(
        "http",
        &format!(
            "single enqueues over HTTP ({} requests)",
            sizes.http_requests
        ),
        &|| runtime.block_on(http::run(sizes.http_requests)),
    );
    take(
        "claim",
        &format!(
            "claim+complete ({} and {} finished rows)",
            sizes.claim_small_rows, sizes.claim_large_rows
        ),
        &|| {
            runtime.block_on(claim::run(
                sizes.claim_iterations,
                sizes.claim_small_rows,
                sizes.claim_large_rows,
            ))
        },
    );
    take(
        "power",
        &format!(
            "dispatch when AC returns ({} and {} jobs waiting, {} rounds)",
            sizes.power_wait_jobs, sizes.power_wait_baseline_jobs, sizes.power_wait_rounds
        ),
        &|| {
            runtime.block_on(power_wait::run(
                sizes.power_wait_jobs,
                sizes.power_wait_baseline_jobs,
                sizes.power_wait_rounds,
            ))
        },
    );
    take(
        "metrics",
        &format!(
            "metrics on and off ({} jobs through the daemon, {} in-process)",
            sizes.throughput_jobs, sizes.latency_jobs
        ),
        &|| {
            runtime.block_on(watch::on_off(
                &options.bin,
                sizes.throughput_jobs,
                sizes.latency_jobs,
            ))
        },
    );
    take("scrape", "a scrape of /metrics with 50 queues", &|| {
        runtime.block_on(watch::scrape(200))
    });
    take(
        "history",
        &format!(
            "summary and trend with {} and {} finished jobs",
            sizes.claim_small_rows, sizes.claim_large_rows
        ),
        &|| {
            runtime.block_on(watch::history(
                sizes.claim_small_rows,
                sizes.claim_large_rows,
                50,
            ))
        },
    );
    take(
        "sampling",
        &format!(
            "sampling 32 running jobs ({}s window)",
            sizes.idle_window.as_secs()
        ),
        &|| runtime.block_on(watch::sampling(&options.bin, sizes.idle_window)),
    );
    take(
        "pools",
        &format!(
            "worker pools ({} jobs, {} dispatches, {}s idle window)",
            sizes.throughput_jobs,
            sizes.latency_jobs,
            sizes.idle_window.as_secs()
        ),
        &|| {
            runtime.block_on(pools::run(
                &options.bin,
                sizes.throughput_jobs,
                sizes.latency_jobs,
                sizes.idle_window,
            ))
        },
    );
    take(
        "incidents",
        &format!(
            "incident rules ({} jobs through the daemon, {} finished jobs)",
            sizes.throughput_jobs, sizes.claim_large_rows
        ),
        &|| {
            runtime.block_on(incidents::run(
                &options.bin,
                sizes.throughput_jobs,
                sizes.claim_large_rows,
                50,
            ))
        },
    );
    take(
        "idle",
        &format!(
            "idle daemon ({}s window)",
            sizes.idle_window.max(idle::WHOLE_MINUTE).as_secs()
        ),
        &|| idle::run(&options.bin, sizes.idle_window),
    );
    take(
        "desktop",
        &format!("desktop app ({}s window)", sizes.idle_window.as_secs()),
        &|| desktop::run(&options.apps_dir, sizes.idle_window),
    );
    (figures, errors)
}
