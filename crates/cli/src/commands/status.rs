//! `nightshift status`: is it running, and where.

use crate::args::StatusArgs;
use crate::client::Client;
use crate::client::ClientError;
use crate::out::outln;
use nightshift_api::{Health, MetricsSummary, PowerView, Summary};
use nightshift_core::JobState;
use std::process::ExitCode;

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    if args.line {
        return line(args.window);
    }
    let client = Client::connect()?;
    if args.url {
        outln!("{}", client.ui_link())?;
        return Ok(ExitCode::SUCCESS);
    }
    let health: Health = client.get("/api/health")?;
    if args.json {
        crate::format::print_json(&health)?;
    } else {
        outln!(
            "Nightshift {} is running at {} (pid {})",
            health.version,
            client.base(),
            health.pid
        )?;
        outln!("data folder: {}", health.data_dir)?;
        outln!(
            "running jobs: {}{}",
            health.running,
            if health.paused { " (paused)" } else { "" }
        )?;
        outln!("web UI: nightshift status --url prints its link")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `status --line`: `12:40:15 running 2 | queued 6 | ok 98.1% | p95 3.4s | on AC`.
fn line(window: std::time::Duration) -> anyhow::Result<ExitCode> {
    let clock = chrono::Local::now().format("%H:%M:%S").to_string();
    let read = || -> anyhow::Result<String> {
        let client = Client::connect()?;
        let summary: Summary = client.get("/api/summary")?;
        let window = humantime::format_duration(window)
            .to_string()
            .replace(' ', "");
        let metrics: MetricsSummary =
            client.get(&format!("/api/metrics/summary?window={window}"))?;
        let power: PowerView = client.get("/api/power")?;
        Ok(compose(&summary, &metrics, &power))
    };
    match read() {
        Ok(text) => {
            outln!("{clock} {text}")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if matches!(e.downcast_ref(), Some(ClientError::NoDaemon { .. })) => {
            outln!("{clock} not running")?;
            Ok(ExitCode::from(crate::exit::NO_DAEMON))
        }
        Err(e) => Err(e),
    }
}

fn compose(summary: &Summary, metrics: &MetricsSummary, power: &PowerView) -> String {
    let queued = summary.counts.get(&JobState::Queued).copied().unwrap_or(0);
    let mut parts = vec![
        format!("running {}", summary.running),
        format!("queued {queued}"),
    ];
    let total = &metrics.total;
    if let Some(rate) = total.success_rate {
        parts.push(format!("ok {:.1}%", rate * 100.0));
    }
    if let Some(p95) = total.run.p95_ms {
        parts.push(format!(
            "p95 {}",
            nightshift_core::duration::format_short(std::time::Duration::from_millis(p95))
        ));
    }
    parts.push(match (power.on_ac, power.battery_percent) {
        (true, _) => "on AC".to_string(),
        (false, Some(p)) => format!("battery {p:.0}%"),
        (false, None) => "on battery".to_string(),
    });
    if summary.paused {
        parts.push("paused".into());
    }
    if !summary.problems.is_empty() {
        parts.push(format!("{} problem(s)", summary.problems.len()));
    }
    parts.join(" | ")
}
