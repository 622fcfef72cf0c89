//! Worker pools: `worker add|ls|scale|restart|stop|start|rm` and `workers`.

use crate::args::{JsonArgs, WorkerAddArgs, WorkerCommand};
use crate::client::{Client, encode};
use crate::format::{age, cpu_time, table};
use crate::out::outln;
use anyhow::Context;
use nightshift_api::{DurationValue, PoolRequest, PoolUpdate, PoolView, WorkerState};
use std::process::ExitCode;

pub fn list(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let pools: Vec<PoolView> = Client::connect()?.get("/api/pools")?;
    if args.json {
        crate::format::print_json(&pools)?;
        return Ok(ExitCode::SUCCESS);
    }
    if pools.is_empty() {
        outln!("no worker pools: `nightshift worker add NAME --queue QUEUE -- COMMAND` makes one")?;
        return Ok(ExitCode::SUCCESS);
    }
    for (i, pool) in pools.iter().enumerate() {
        if i > 0 {
            outln!()?;
        }
        print_pool(pool)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_pool(pool: &PoolView) -> anyhow::Result<()> {
    let running = pool
        .workers
        .iter()
        .filter(|w| matches!(w.state, WorkerState::Idle | WorkerState::Busy))
        .count();
    let status = if pool.stopped {
        "stopped".to_string()
    } else {
        format!("{running} of {} ready", pool.count)
    };
    outln!(
        "pool {} (queue {}{}): {status}; {}",
        pool.name,
        pool.queue,
        if pool.from_config {
            ", from the config file"
        } else {
            ""
        },
        std::iter::once(pool.program.as_str())
            .chain(pool.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    if let Some(why) = &pool.crash_looping {
        outln!("  crash-looping: {why}")?;
    }
    if pool.workers.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = pool
        .workers
        .iter()
        .map(|w| {
            vec![
                w.slot.to_string(),
                state(w.state).into(),
                w.pid.map_or("-".into(), |p| p.to_string()),
                // Up for as long as it is since it started.
                w.started_at
                    .map_or("-".into(), |t| age(t).trim_end_matches(" ago").to_string()),
                w.restarts.to_string(),
                w.job.map_or("-".into(), |j| j.to_string()),
                w.jobs_done.to_string(),
                w.jobs_failed.to_string(),
                w.last_heard.map_or("-".into(), age),
                w.cpu_ms.map_or("-".into(), cpu_time),
                w.rss_bytes.map_or("-".into(), nightshift_api::human_bytes),
            ]
        })
        .collect();
    table(
        &[
            "WORKER", "STATE", "PID", "UP", "RESTARTS", "JOB", "DONE", "FAILED", "HEARD", "CPU",
            "MEM",
        ],
        &rows,
    )?;
    Ok(())
}

fn state(state: WorkerState) -> &'static str {
    match state {
        WorkerState::Starting => "starting",
        WorkerState::Idle => "idle",
        WorkerState::Busy => "busy",
        WorkerState::BackingOff => "backing off",
        WorkerState::Unresponsive => "unresponsive",
        WorkerState::Stopped => "stopped",
    }
}

pub fn command(command: WorkerCommand) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let path = |name: &str, action: &str| format!("/api/pools/{}{action}", encode(name));
    let (view, json, done): (PoolView, bool, &str) = match command {
        WorkerCommand::Ls(args) => return list(args),
        WorkerCommand::Add(args) => (add(&client, &args)?, args.json, "added"),
        WorkerCommand::Scale(a) => (
            client.post(&path(&a.name, ""), &PoolUpdate { count: a.count })?,
            a.json,
            "scaled",
        ),
        WorkerCommand::Restart(a) => (
            client.post_empty(&path(&a.name, "/restart"))?,
            a.json,
            "restarting (each worker after its job)",
        ),
        WorkerCommand::Stop(a) => (
            client.post_empty(&path(&a.name, "/stop"))?,
            a.json,
            "stopping (each worker after its job)",
        ),
        WorkerCommand::Start(a) => (
            client.post_empty(&path(&a.name, "/start"))?,
            a.json,
            "starting",
        ),
        WorkerCommand::Rm(a) => {
            client.delete(&path(&a.name, ""))?;
            if a.json {
                crate::format::print_json(&serde_json::json!({ "removed": a.name }))?;
            } else {
                outln!(
                    "pool {}: removed; its workers stop after their jobs",
                    a.name
                )?;
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if json {
        crate::format::print_json(&view)?;
    } else {
        outln!("pool {}: {done}", view.name)?;
        print_pool(&view)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn add(client: &Client, args: &WorkerAddArgs) -> anyhow::Result<PoolView> {
    let cwd = match &args.cwd {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?
        }
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let request = PoolRequest {
        name: args.name.clone(),
        queue: args.queue.clone(),
        count: Some(args.count),
        cmd: args.command.clone(),
        env: args.env.iter().cloned().collect(),
        cwd: Some(cwd),
        heartbeat: args
            .heartbeat
            .map(|d| DurationValue::Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))),
    };
    Ok(client.post("/api/pools", &request)?)
}
