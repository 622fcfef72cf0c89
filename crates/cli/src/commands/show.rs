//! `nightshift show`: one job and its attempts.

use crate::args::ShowArgs;
use crate::client::Client;
use crate::commands::parse_id;
use crate::format::{age, cpu_time, exit, run_time, table};
use crate::out::outln;
use nightshift_api::JobDetail;
use std::process::ExitCode;

pub fn run(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let id = parse_id(&args.id)?;
    let client = Client::connect()?;
    let detail: JobDetail = client.get(&format!("/api/jobs/{id}"))?;
    if args.json {
        crate::format::print_json(&detail)?;
        return Ok(ExitCode::SUCCESS);
    }
    let v = &detail.job;
    let j = &v.job;
    let field = |k: &str, val: String| outln!("{k:<10} {val}");
    field("id", j.id.to_string())?;
    field("state", j.state.to_string())?;
    if let Some(waiting) = &v.waiting {
        field("waiting", waiting.message.clone())?;
    }
    if let Some(reason) = &j.reason {
        field("reason", reason.clone())?;
    }
    if let Some(u) = &v.usage {
        let cpu = u
            .cpu_percent
            .map(|p| format!("{p:.0}% CPU, "))
            .unwrap_or_default();
        field(
            "using",
            format!(
                "{cpu}{} memory (peak {}), {} CPU time, {} process{}",
                nightshift_api::human_bytes(u.rss_bytes),
                nightshift_api::human_bytes(u.peak_rss_bytes),
                cpu_time(u.cpu_ms),
                u.processes,
                if u.processes == 1 { "" } else { "es" }
            ),
        )?;
    }
    if !detail.after.is_empty() {
        let after: Vec<String> = detail
            .after
            .iter()
            .map(|d| format!("{} ({})", d.id, d.state))
            .collect();
        field("after", after.join(", "))?;
    }
    let mut power = Vec::new();
    if j.spec.require_ac {
        power.push("AC only".to_string());
    }
    if let Some(min) = j.spec.min_battery {
        power.push(format!("battery at least {min}%"));
    }
    if let Some(action) = j.spec.on_power_loss {
        power.push(format!("{action} on power loss"));
    }
    if !power.is_empty() {
        field("power", power.join(", "))?;
    }
    field("command", v.command.clone())?;
    field("queue", j.spec.queue.clone())?;
    field("priority", j.spec.priority.to_string())?;
    field(
        "cwd",
        j.spec
            .cwd
            .as_ref()
            .map(|c| c.display().to_string())
            .unwrap_or("-".into()),
    )?;
    if !j.spec.env.is_empty() {
        let env: Vec<String> = j.spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        field("env", env.join(" "))?;
    }
    field(
        "timeout",
        j.spec
            .timeout_ms
            .map(|t| humantime::format_duration(std::time::Duration::from_millis(t)).to_string())
            .unwrap_or("-".into()),
    )?;
    field(
        "attempts",
        format!(
            "{} of {} used ({} made)",
            j.attempts_used, j.spec.max_attempts, j.attempt_count
        ),
    )?;
    if let Some(size) = j.payload_size {
        field("payload", nightshift_api::human_bytes(size))?;
    }
    field("created", age(j.created_at))?;
    field("ran for", run_time(v))?;
    field("exit", exit(v))?;
    if !detail.attempts.is_empty() {
        outln!()?;
        let rows: Vec<Vec<String>> = detail
            .attempts
            .iter()
            .map(|a| {
                let took = a.ended_at.map(|e| {
                    nightshift_core::duration::format_short(nightshift_core::timestamp::until(
                        a.started_at,
                        e,
                    ))
                });
                vec![
                    a.number.to_string(),
                    a.outcome.to_string(),
                    a.pid.map(|p| p.to_string()).unwrap_or("-".into()),
                    age(a.started_at),
                    took.unwrap_or("-".into()),
                    match (a.exit_code, a.signal) {
                        (Some(c), _) => c.to_string(),
                        (None, Some(s)) => format!("sig {s}"),
                        _ => "-".into(),
                    },
                    a.cpu_ms.map(cpu_time).unwrap_or("-".into()),
                    a.peak_rss_bytes
                        .map(nightshift_api::human_bytes)
                        .unwrap_or("-".into()),
                ]
            })
            .collect();
        table(
            &[
                "ATTEMPT", "OUTCOME", "PID", "STARTED", "TOOK", "EXIT", "CPU", "PEAK MEM",
            ],
            &rows,
        )?;
        // A worker pool's attempts: which worker ran each, and what its result carried.
        for a in &detail.attempts {
            if let Some(worker) = &a.worker {
                let result = a.result.as_ref().map(|r| format!(", result {r}"));
                outln!(
                    "attempt {} ran on worker {worker}{}",
                    a.number,
                    result.unwrap_or_default()
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
