//! Recording how an attempt ended, even when the database cannot take it right now.
//!
//! An outcome is the one thing Nightshift must never lose: a job that exited 0 while the disk
//! was full must not run again after a restart. So when `Store::finish` fails for the storage's
//! sake (disk full, I/O error, the database locked by another program), the scheduler keeps the
//! outcome and retries it, with a growing wait, until it lands; other jobs go on meanwhile. The
//! attempt keeps its slot and counts as running until then, so every count stays true.
//!
//! A retry in memory is lost if Nightshift stops before the write lands. So a pending outcome
//! is also written to `outcomes.pending` in the data folder, a file of fixed size made at start
//! (64 KiB of zeros, about 250 outcomes). Overwriting bytes a file already has needs no new
//! space, so this write works on a full disk where any growth fails. Start-up recovery applies
//! what the file holds before it treats open attempts as crashes; applying one that already
//! landed is refused by the store (the attempt is closed) and skipped.

use nightshift_core::{AttemptOutcome, JobId};
use nightshift_store::{Ended, Finish, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The journal's fixed size. One record is about 250 bytes.
pub(crate) const JOURNAL_BYTES: usize = 64 * 1024;
/// The first wait before a failed write is tried again, and the longest (short, so that a stop
/// that begins during a wait is not held up for long).
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(1);
/// Tries once the engine is stopping, a `FIRST_RETRY` apart, before the outcome is left to the
/// journal for the next start.
const TRIES_WHILE_STOPPING: u32 = 5;

/// One pending outcome, as the journal keeps it: everything `Store::finish` needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Record {
    job: JobId,
    attempt: i64,
    outcome: AttemptOutcome,
    consume: bool,
    exit_code: Option<i32>,
    signal: Option<i32>,
    reason: Option<String>,
    now: i64,
    retry_at: Option<i64>,
    /// Absent in records written before it was kept.
    #[serde(default)]
    usage: Option<nightshift_core::AttemptUsage>,
    /// A worker's result value (absent before workers).
    #[serde(default)]
    result: Option<String>,
    /// An end that counts as an interruption in a row (a worker that died mid-job).
    #[serde(default)]
    crash_limit: Option<u32>,
    /// The worker that ran it, and its pid.
    #[serde(default)]
    worker: Option<(String, i32)>,
}

impl Record {
    fn of(f: &Finish) -> Record {
        Record {
            job: f.job,
            attempt: f.attempt,
            outcome: f.outcome,
            consume: f.consume,
            exit_code: f.exit_code,
            signal: f.signal,
            // Bounded, so one long reason cannot fill the journal.
            reason: f.reason.as_ref().map(|r| r.chars().take(200).collect()),
            now: f.now,
            retry_at: f.retry_at,
            usage: f.usage,
            // Kept only when short, like the reason: a cut JSON value would be no value. A long
            // one is lost if the disk was full when its attempt ended (the outcome is not).
            result: f.result.clone().filter(|r| r.len() <= 200),
            crash_limit: f.crash_limit,
            worker: f.worker.clone(),
        }
    }

    fn finish(self) -> Finish {
        Finish {
            job: self.job,
            attempt: self.attempt,
            outcome: self.outcome,
            consume: self.consume,
            exit_code: self.exit_code,
            signal: self.signal,
            reason: self.reason,
            now: self.now,
            retry_at: self.retry_at,
            crash_limit: self.crash_limit,
            usage: self.usage,
            result: self.result,
            worker: self.worker,
        }
    }
}

/// Outcomes waiting for the database, in memory and in the journal file.
#[derive(Debug)]
pub(crate) struct Pending {
    path: PathBuf,
    /// The records not yet in the database, by attempt id.
    records: Mutex<Vec<Record>>,
}

impl Pending {
    /// Makes sure the journal file exists at its full size (zeros), without touching a journal
    /// that holds records: recovery reads those first.
    pub(crate) fn open(path: &Path) -> std::io::Result<Pending> {
        let mut file = nightshift_core::private::options()
            .read(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len() as usize;
        if len < JOURNAL_BYTES {
            // Real zeros, not a hole: a hole would need space when first written.
            file.seek(SeekFrom::Start(len as u64))?;
            file.write_all(&vec![0u8; JOURNAL_BYTES - len])?;
            file.sync_all()?;
        }
        Ok(Pending {
            path: path.to_path_buf(),
            records: Mutex::new(Vec::new()),
        })
    }

    /// The outcomes a previous run left in the journal.
    pub(crate) fn left_over(&self) -> Vec<Finish> {
        let mut bytes = Vec::new();
        if std::fs::File::open(&self.path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .is_err()
        {
            return Vec::new();
        }
        parse(&bytes).into_iter().map(Record::finish).collect()
    }

    /// Keeps `finish` until it lands; false if the journal could not hold it (it then lives
    /// only in memory).
    fn hold(&self, finish: &Finish) -> bool {
        let mut records = crate::locks::lock(&self.records);
        records.push(Record::of(finish));
        self.rewrite(&records)
    }

    /// Forgets the outcome of `attempt`: it is in the database now.
    fn landed(&self, attempt: i64) {
        let mut records = crate::locks::lock(&self.records);
        records.retain(|r| r.attempt != attempt);
        self.rewrite(&records);
    }

    /// Clears what a previous run left, once recovery has applied it.
    pub(crate) fn clear_left_over(&self) {
        let records = crate::locks::lock(&self.records);
        self.rewrite(&records);
    }

    /// How many outcomes wait for the database.
    pub(crate) fn count(&self) -> usize {
        crate::locks::lock(&self.records).len()
    }

    /// Writes `records` over the journal's bytes in place (never growing it), then syncs.
    fn rewrite(&self, records: &[Record]) -> bool {
        let Some(bytes) = encode(records) else {
            tracing::error!(
                pending = records.len(),
                "too many outcomes wait for the database to keep them all in the journal"
            );
            return false;
        };
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_data()
            });
        if let Err(e) = &written {
            tracing::error!(error = %e, file = %self.path.display(), "cannot write the outcome journal");
        }
        written.is_ok()
    }
}

/// The journal's bytes: one JSON record per line, then zeros to the fixed size. `None` when the
/// records do not fit.
fn encode(records: &[Record]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(JOURNAL_BYTES);
    for record in records {
        serde_json::to_writer(&mut bytes, record).ok()?;
        bytes.push(b'\n');
    }
    if bytes.len() > JOURNAL_BYTES {
        return None;
    }
    bytes.resize(JOURNAL_BYTES, 0);
    Some(bytes)
}

/// The records in the journal's bytes: whole lines up to the first zero; a torn last line (a
/// crash mid-write) is skipped.
fn parse(bytes: &[u8]) -> Vec<Record> {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    bytes[..end]
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// Records `finish`, retrying while the storage fails, until it lands, or until the engine has
/// been `stopping` for a few tries. An error when it did not land: a request the store refuses
/// (the attempt was already closed), or a stop while the disk stayed full (the journal keeps
/// the outcome then).
pub(crate) async fn record(
    ctx: &crate::context::Context,
    finish: Finish,
) -> Result<Ended, StoreError> {
    let (store, pending, health, stopping) = (&ctx.store, &ctx.pending, &ctx.health, &ctx.stopping);
    let mut wait = FIRST_RETRY;
    let mut tries_while_stopping = 0;
    let mut held = false;
    loop {
        match store.finish(finish.clone()).await {
            Ok(ended) => {
                if held {
                    pending.landed(finish.attempt);
                    health.outcomes_pending(pending.count());
                    tracing::info!(job = %finish.job, "the attempt's outcome is recorded at last");
                }
                return Ok(ended);
            }
            Err(e) if !e.is_storage_failure() => return Err(e),
            Err(e) => {
                if !held {
                    held = true;
                    let journaled = pending.hold(&finish);
                    health.outcomes_pending(pending.count());
                    tracing::error!(
                        job = %finish.job, error = %e, journaled,
                        "cannot record how the attempt ended; retrying until it lands"
                    );
                }
                let pause = if stopping.load(std::sync::atomic::Ordering::Relaxed) {
                    tries_while_stopping += 1;
                    if tries_while_stopping > TRIES_WHILE_STOPPING {
                        tracing::error!(
                            job = %finish.job, error = %e,
                            "stopping with the attempt's outcome still unrecorded; it is kept \
                             in outcomes.pending for the next start"
                        );
                        return Err(e);
                    }
                    FIRST_RETRY
                } else {
                    let pause = wait;
                    wait = (wait * 2).min(LONGEST_RETRY);
                    pause
                };
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(attempt: i64) -> Record {
        Record {
            job: JobId(attempt + 100),
            attempt,
            outcome: AttemptOutcome::Succeeded,
            consume: false,
            exit_code: Some(0),
            signal: None,
            reason: Some("a reason".into()),
            now: 1_000,
            retry_at: None,
            usage: Some(nightshift_core::AttemptUsage {
                cpu_ms: 1_234,
                peak_rss_bytes: 56 << 20,
            }),
            result: Some("{\"vectors\":3}".into()),
            crash_limit: Some(3),
            worker: Some(("embed/2".into(), 4242)),
        }
    }

    #[test]
    fn the_journal_keeps_its_size_and_reads_back_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outcomes.pending");
        let pending = Pending::open(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            JOURNAL_BYTES as u64
        );
        let finish = record(1).finish();
        assert!(pending.hold(&finish));
        assert!(pending.hold(&record(2).finish()));
        pending.landed(1);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            JOURNAL_BYTES as u64
        );
        let again = Pending::open(&path).unwrap();
        let left: Vec<i64> = again.left_over().iter().map(|f| f.attempt).collect();
        assert_eq!(left, vec![2], "what landed is gone, what did not is kept");
        again.clear_left_over();
        assert!(Pending::open(&path).unwrap().left_over().is_empty());
    }

    #[test]
    fn a_journal_too_full_says_so_instead_of_growing() {
        let many: Vec<Record> = (0..1_000).map(record).collect();
        assert!(encode(&many).is_none());
        assert_eq!(encode(&many[..10]).unwrap().len(), JOURNAL_BYTES);
    }

    proptest! {
        /// Whatever bytes the file holds (a torn write, garbage), reading it never panics, and
        /// what `encode` wrote reads back whole.
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn encoded_records_read_back(attempts in proptest::collection::vec(1i64..1_000_000, 0..50)) {
            let records: Vec<Record> = attempts.iter().copied().map(record).collect();
            let bytes = encode(&records).unwrap();
            prop_assert_eq!(parse(&bytes), records);
        }
    }
}
