//! Figure 3, batched enqueue: many jobs stored in one call, into a held queue (concurrency 0)
//! so nothing runs; in-process through `EngineHandle::enqueue`, and over HTTP as one JSON Lines
//! body to `POST /api/jobs/batch`. Baseline: the same number of rows inserted with raw rusqlite
//! into a fresh WAL database with the jobs table of migration 0001 (its CHECK as migration 0015
//! writes it), in one transaction with one prepared statement. Each of the three is taken a
//! few times, interleaved, and the median reported, as these runs are short and the machine
//! may be busy with something else.

use crate::harness::{BenchEngine, Client, HttpServer, on_thread, true_jobs};
use crate::report::{Figure, Target};
use crate::stats::per_second;
use anyhow::{Context, ensure};
use rusqlite::{Connection, params};
use std::time::Instant;

const QUEUE: &str = "held";
/// Times each way of inserting is taken; the median counts.
const ROUNDS: usize = 3;
/// The jobs table as Nightshift creates it.
const JOBS_TABLE: &str = include_str!("../../../migrations/0001_jobs.sql");
/// The migration that rewrites the table's CHECK.
const CHECKS_IN_PLACE: &str = include_str!("../../../migrations/0015_checks_in_place.sql");

pub async fn run(jobs: usize) -> anyhow::Result<Vec<Figure>> {
    let (mut raw, mut local, mut http) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        raw.push(raw_insert(jobs)?);
        local.push(in_process(jobs).await?);
        http.push(over_http(jobs).await?);
    }
    let (baseline, in_process, over_http) = (median(raw), median(local), median(http));
    let baseline_name = format!("raw rusqlite insert of {jobs} rows, one transaction");
    Ok(vec![
        Figure {
            key: "enqueue_batch_jobs_per_s",
            name: format!("enqueue batch of {jobs}, in-process"),
            unit: "jobs/s",
            value: in_process,
            baseline,
            baseline_name: baseline_name.clone(),
            target: Target::RatioAtLeast(0.50),
        },
        Figure {
            key: "enqueue_batch_http_jobs_per_s",
            name: format!("enqueue batch of {jobs}, HTTP JSON Lines"),
            unit: "jobs/s",
            value: over_http,
            baseline,
            baseline_name,
            target: Target::None,
        },
    ])
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// One `EngineHandle::enqueue` call with every job; jobs per second.
async fn in_process(jobs: usize) -> anyhow::Result<f64> {
    let bench = BenchEngine::start(&[(QUEUE, 0)]).await?;
    let batch = true_jobs(jobs, QUEUE);
    let t = Instant::now();
    let ids = bench.engine.enqueue(batch).await?;
    let elapsed = t.elapsed();
    ensure!(ids.len() == jobs, "enqueued {} of {jobs} jobs", ids.len());
    bench.stop().await;
    Ok(per_second(jobs, elapsed))
}

/// One `POST /api/jobs/batch` with every job as a line; jobs per second, request to answer.
async fn over_http(jobs: usize) -> anyhow::Result<f64> {
    let bench = BenchEngine::start(&[(QUEUE, 0)]).await?;
    let server = HttpServer::start(&bench.engine).await?;
    let client = Client::new(&server);
    let body = format!("{{\"cmd\":[\"/bin/true\"],\"queue\":\"{QUEUE}\"}}\n").repeat(jobs);
    let (elapsed, answer) = on_thread("http-batch", move || {
        // One small request first, so the timed one reuses a warm connection.
        client.get("/api/health")?;
        let t = Instant::now();
        let answer = client.post("/api/jobs/batch", "application/x-ndjson", &body, 201)?;
        Ok((t.elapsed(), answer))
    })
    .await?;
    let answer: serde_json::Value =
        serde_json::from_str(&answer).context("the batch answer is not JSON")?;
    ensure!(
        answer["count"].as_u64() == Some(jobs as u64),
        "the batch answer does not count {jobs} jobs: {answer}"
    );
    server.stop().await?;
    bench.stop().await;
    Ok(per_second(jobs, elapsed))
}

/// Inserts `rows` queued jobs like the store does, but with nothing around it; rows per
/// second, from `BEGIN` to `COMMIT`.
fn raw_insert(rows: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let conn = Connection::open(dir.path().join("raw.db")).context("cannot open raw.db")?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    ensure!(mode.eq_ignore_ascii_case("wal"), "SQLite refused WAL mode");
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    // With its CHECK as migration 0015 leaves it (checked in place, not through a temporary
    // table), so the baseline is not slowed by what Nightshift no longer pays.
    conn.execute_batch(JOBS_TABLE)
        .and_then(|()| conn.execute_batch(CHECKS_IN_PLACE))
        .context("cannot create the jobs table")?;
    let table: String = conn.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'jobs'",
        [],
        |r| r.get(0),
    )?;
    ensure!(
        !table.contains("state IN ("),
        "migration 0015 left the baseline's CHECK as it was"
    );
    let now = nightshift_core::clock::system().now_ms();
    let t = Instant::now();
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO jobs (state, queue, priority, program, args, shell, env, cwd, timeout_ms,
                 max_attempts, notify, payload, payload_file, payload_size, created_at, updated_at)
             VALUES ('queued', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
        )?;
        for _ in 0..rows {
            insert.execute(params![
                QUEUE,
                0,
                "/bin/true",
                "[]",
                false,
                "{}",
                None::<String>,
                None::<i64>,
                1,
                false,
                None::<Vec<u8>>,
                None::<String>,
                None::<i64>,
                now,
            ])?;
        }
    }
    tx.commit()?;
    Ok(per_second(rows, t.elapsed()))
}
