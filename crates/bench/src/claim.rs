//! Figure 5, claim+complete cost against table size: the store's work for one job's life
//! (`claim`, `set_identity`, `finish`, each its own commit) timed with a small table of
//! finished jobs, then with a large one; and beside it the per-queue counts `queue ls` reads. Nightshift is the large table; the baseline is the
//! small one, so the ratio is how much history slows dispatch down. Both stores are open at
//! once and timed in alternating blocks, so both see the machine in the same mood.
//!
//! The tables are filled with raw SQL (one `INSERT ... SELECT` over a counter) after
//! `Store::open` has created them: the store's own API would take minutes for a million rows.

use crate::report::{Figure, Target};
use anyhow::{Context, ensure};
use nightshift_core::{AttemptOutcome, Clock as _, JobState, Synchronous};
use nightshift_store::{Finish, Store};
use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};

const QUEUE: &str = "claim";
/// Queued jobs waiting in the claim queue, in both tables.
const QUEUED: usize = 2_000;
/// Cycles run first and not counted.
const WARM_UP: usize = 100;
/// Cycles timed on one store before switching to the other.
const BLOCK: usize = 100;
/// Blocks of count reads timed on each store.
const COUNT_ROUNDS: usize = 5;

pub async fn run(iterations: usize, small: usize, large: usize) -> anyhow::Result<Vec<Figure>> {
    ensure!(
        iterations + WARM_UP <= QUEUED,
        "{iterations} iterations need more than {QUEUED} queued jobs"
    );
    let small = Table::fill(small)?;
    let large = Table::fill(large)?;
    for _ in 0..WARM_UP {
        small.cycle().await?;
        large.cycle().await?;
    }
    let (mut small_time, mut large_time) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    while done < iterations {
        let block = BLOCK.min(iterations - done);
        small_time += small.time(block).await?;
        large_time += large.time(block).await?;
        done += block;
    }
    let per_job = |time: Duration| time.as_secs_f64() * 1e6 / iterations as f64;
    let (small_us, large_us) = (per_job(small_time), per_job(large_time));
    // What `queue ls` reads, alternating between the tables like the cycles above.
    let (mut small_counts, mut large_counts) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..COUNT_ROUNDS {
        small_counts += small.time_counts(BLOCK).await?;
        large_counts += large.time_counts(BLOCK).await?;
    }
    let per_read = |time: Duration| time.as_secs_f64() * 1e6 / (COUNT_ROUNDS * BLOCK) as f64;
    Ok(vec![
        Figure {
            key: "claim_complete_us_per_job",
            name: format!(
                "claim+complete with {} finished rows",
                count(large.finished)
            ),
            unit: "us/job",
            value: large_us,
            baseline: small_us,
            baseline_name: format!("the same with {} finished rows", count(small.finished)),
            target: Target::RatioAtMost(1.5),
        },
        Figure {
            key: "queue_counts_us",
            name: format!(
                "job counts per queue and state (`queue ls`), {} finished rows",
                count(large.finished)
            ),
            unit: "us",
            value: per_read(large_counts),
            baseline: per_read(small_counts),
            baseline_name: format!("the same with {} finished rows", count(small.finished)),
            target: Target::RatioAtMost(1.5),
        },
    ])
}

/// 1000 as "1k", 1000000 as "1M".
pub(crate) fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// A store on a fresh folder with `finished` finished jobs and `QUEUED` queued ones.
struct Table {
    finished: usize,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Table {
    fn fill(finished: usize) -> anyhow::Result<Table> {
        let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
        let db = dir.path().join("nightshift.db");
        let payloads = dir.path().join("payloads");
        std::fs::create_dir(&payloads).context("cannot create the payloads folder")?;
        let store =
            Store::open(&db, &payloads, Synchronous::Normal).context("cannot open the store")?;
        // Blocking for seconds is fine here: `block_on` runs this on the main thread.
        prefill(&db, finished, QUEUED).context("cannot fill the table")?;
        Ok(Table {
            finished,
            store,
            _dir: dir,
        })
    }

    /// How long `n` cycles take.
    async fn time(&self, n: usize) -> anyhow::Result<Duration> {
        let t = Instant::now();
        for _ in 0..n {
            self.cycle().await?;
        }
        Ok(t.elapsed())
    }

    /// How long `n` reads of the per-queue counts take.
    async fn time_counts(&self, n: usize) -> anyhow::Result<Duration> {
        let t = Instant::now();
        for _ in 0..n {
            let counts = self.store.queue_counts().await?;
            ensure!(counts.len() >= 2, "counts for {} pairs", counts.len());
        }
        Ok(t.elapsed())
    }

    /// One job's life as the engine records it.
    async fn cycle(&self) -> anyhow::Result<()> {
        let store = &self.store;
        let clock = nightshift_core::SystemClock;
        let claimed = store
            .claim(QUEUE, 1, clock.now_ms(), nightshift_store::PowerNow::AC)
            .await?
            .pop()
            .context("no queued job left to claim")?;
        store
            .set_identity(claimed.attempt_id, std::process::id() as i32, None, None)
            .await?;
        let state = store
            .finish(Finish {
                job: claimed.job.id,
                attempt: claimed.attempt_id,
                outcome: AttemptOutcome::Succeeded,
                consume: false,
                exit_code: Some(0),
                signal: None,
                reason: None,
                now: clock.now_ms(),
                retry_at: None,
                crash_limit: None,
                usage: None,
                result: None,
                worker: None,
            })
            .await?;
        ensure!(
            state.state == JobState::Succeeded,
            "finished job is {:?}",
            state.state
        );
        Ok(())
    }
}

/// Adds `finished` succeeded jobs (half in the claim queue, half in another), each with its
/// attempt, then `queued` queued jobs in the claim queue, as the newest rows.
pub(crate) fn prefill(db: &Path, finished: usize, queued: usize) -> anyhow::Result<()> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // This connection only fills; losing it to a crash would not matter.
    conn.execute_batch("PRAGMA synchronous = OFF; BEGIN IMMEDIATE;")?;
    let now = nightshift_core::SystemClock.now_ms();
    conn.execute(
        "INSERT INTO jobs (state, queue, program, attempts_used, attempt_count, created_at,
             updated_at, started_at, finished_at, exit_code)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT 'succeeded', CASE i % 2 WHEN 0 THEN ?2 ELSE 'other' END, '/bin/true', 0, 1,
             ?3, ?3, ?3, ?3, 0
         FROM n",
        params![finished as i64, QUEUE, now],
    )?;
    conn.execute(
        "INSERT INTO attempts (job_id, number, pid, pgid, started_at, ended_at, exit_code, outcome)
         SELECT id, 1, 1, 1, ?1, ?1, 0, 'succeeded' FROM jobs",
        params![now],
    )?;
    conn.execute(
        "INSERT INTO jobs (state, queue, program, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT 'queued', ?2, '/bin/true', ?3, ?3 FROM n",
        params![queued as i64, QUEUE, now],
    )?;
    // Counted as the store counts what it inserts (migration 0016: no trigger counts inserts).
    conn.execute(
        "INSERT INTO queue_counts (queue, state, n)
         SELECT queue, state, count(*) FROM jobs GROUP BY queue, state
         ON CONFLICT (queue, state) DO UPDATE SET n = excluded.n",
        [],
    )?;
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_short() {
        assert_eq!(super::count(1_000), "1k");
        assert_eq!(super::count(1_000_000), "1M");
        assert_eq!(super::count(100_000), "100k");
        assert_eq!(super::count(1_500), "1500");
    }
}
