//! Migrations: a fresh database, a database at every earlier version, and a newer one.

use nightshift_core::{JobId, JobSpec, Synchronous};
use nightshift_store::{NewJob, Store, StoreError, latest_version, migrate_to};
use rusqlite::Connection;

fn version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_fresh_database_gets_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let store = Store::open(&db, dir.path(), Synchronous::Normal).unwrap();
    assert_eq!(version(&db), latest_version());
    let mode: String = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let ids = store
        .insert_jobs(
            vec![NewJob {
                run_at: None,
                spec: JobSpec::command(&["true"], "q"),
                payload: None,
                after: Vec::new(),
            }],
            1,
        )
        .await
        .unwrap();
    assert_eq!(ids, vec![JobId(1)]);
}

#[tokio::test]
async fn a_database_keeps_its_instance_id_and_another_has_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let first = Store::open(&db, dir.path(), Synchronous::Normal)
        .unwrap()
        .instance_id()
        .to_string();
    assert!(
        first.len() == 32 && first.chars().all(|c| c.is_ascii_hexdigit()),
        "{first}"
    );
    let again = Store::open(&db, dir.path(), Synchronous::Normal).unwrap();
    assert_eq!(again.instance_id(), first);
    drop(again);
    let other = dir.path().join("other.db");
    let other = Store::open(&other, dir.path(), Synchronous::Normal).unwrap();
    assert_ne!(other.instance_id(), first);
    // A copy of the data directory opened elsewhere is another instance; the original keeps
    // its id.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&db, copy.path().join("n.db")).unwrap();
    let copied = Store::open(&copy.path().join("n.db"), copy.path(), Synchronous::Normal).unwrap();
    assert_ne!(copied.instance_id(), first);
    let original = Store::open(&db, dir.path(), Synchronous::Normal).unwrap();
    assert_eq!(original.instance_id(), first);
}

#[tokio::test]
async fn every_earlier_version_opens_and_keeps_its_data() {
    assert!(
        latest_version() >= 2,
        "this test needs at least two migrations to mean something"
    );
    for earlier in 0..latest_version() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("n.db");
        {
            let conn = Connection::open(&db).unwrap();
            migrate_to(&conn, earlier).unwrap();
            if earlier >= 1 {
                conn.execute(
                    "INSERT INTO jobs (state, queue, program, created_at, updated_at)
                     VALUES ('queued', 'old', 'true', 5, 5)",
                    [],
                )
                .unwrap();
            }
            if earlier >= 16 {
                // From migration 0016 on, the store's code counts what it inserts.
                conn.execute(
                    "INSERT INTO queue_counts (queue, state, n) VALUES ('old', 'queued', 1)",
                    [],
                )
                .unwrap();
            }
        }
        assert_eq!(version(&db), earlier);
        let store = Store::open(&db, dir.path(), Synchronous::Normal).unwrap();
        assert_eq!(version(&db), latest_version(), "from version {earlier}");
        if earlier >= 1 {
            let job = store.job(JobId(1)).await.unwrap().expect("old row kept");
            assert_eq!(job.spec.queue, "old");
            let counts = store.state_counts().await.unwrap();
            assert_eq!(
                counts[&nightshift_core::JobState::Queued],
                1,
                "counts include old rows"
            );
            assert!(store.attempts(JobId(1)).await.unwrap().is_empty());
        }
    }
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE future (x); PRAGMA user_version = {};",
            latest_version() + 1
        ))
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let err = Store::open(&db, dir.path(), Synchronous::Normal).unwrap_err();
    match &err {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(*found, latest_version() + 1);
            assert_eq!(*supported, latest_version());
        }
        other => panic!("expected NewerSchema, got {other}"),
    }
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert!(std::fs::read(&db).unwrap() == before, "the file changed");
    assert!(
        !dir.path().join("n.db-wal").exists(),
        "a WAL file was created"
    );
    assert_eq!(version(&db), latest_version() + 1);
}

/// Claim and listing must use their indexes, or they degrade to full scans as the table grows.
#[test]
fn claim_and_listing_use_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    drop(Store::open(&db, dir.path(), Synchronous::Normal).unwrap());
    let conn = Connection::open(&db).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.join(" | ")
    };
    let claim = plan(
        "SELECT id FROM jobs WHERE state = 'queued' AND run_at IS NULL AND power_held = 0 AND waiting_on = 0 AND queue = 'q' ORDER BY priority DESC, id LIMIT 4",
    );
    assert!(
        claim.contains("jobs_claim") && !claim.contains("TEMP B-TREE"),
        "claim plan: {claim}"
    );
    let by_state =
        plan("SELECT id FROM jobs WHERE state = 'failed' AND id < 9000 ORDER BY id DESC LIMIT 50");
    assert!(
        by_state.contains("jobs_state") && !by_state.contains("TEMP B-TREE"),
        "list plan: {by_state}"
    );
    let by_queue =
        plan("SELECT id FROM jobs WHERE queue = 'q' AND id < 9000 ORDER BY id DESC LIMIT 50");
    assert!(
        by_queue.contains("jobs_queue") && !by_queue.contains("TEMP B-TREE"),
        "list plan: {by_queue}"
    );
    let due = plan(
        "SELECT min(run_at) FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND run_at IS NOT NULL",
    );
    assert!(due.contains("jobs_due"), "due plan: {due}");
    let held = plan(
        "UPDATE jobs INDEXED BY jobs_power_held SET power_held = 0 WHERE state = 'queued' AND power_held = 1 AND require_ac = 0 AND (min_battery IS NULL OR min_battery <= 40.0)",
    );
    assert!(
        held.contains("jobs_power_held"),
        "power release plan: {held}"
    );
    let open = plan("SELECT id FROM attempts WHERE outcome IN ('starting', 'running')");
    assert!(open.contains("attempts_open"), "recovery plan: {open}");
}

/// Migration 0015: the CHECK constraints are written so that SQLite checks them in place. An
/// `x IN (...)` of more than two values made it build a temporary table on every insert of a
/// job and every change of a state or an outcome. The rules themselves must still hold.
#[test]
fn checks_run_in_place_and_still_refuse_a_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let conn = Connection::open(&db).unwrap();
    migrate_to(&conn, 14).unwrap();
    conn.execute(
        "INSERT INTO jobs (state, queue, program, created_at, updated_at, on_power_loss)
         VALUES ('queued', 'q', 'true', 1, 1, 'pause')",
        [],
    )
    .unwrap();
    migrate_to(&conn, latest_version()).unwrap();

    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%CHECK%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // jobs, attempts, queues; pools (0020), whose one check is a comparison; and incidents
    // (0022) and alert_deliveries (0023), whose checks are written as comparisons too.
    assert_eq!(tables.len(), 6, "{tables:?}");
    for (name, sql) in &tables {
        assert!(!sql.contains(" IN ("), "{name} still checks with IN: {sql}");
    }
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // Checked in place, on this connection (the migration read the schema again) and a new one.
    for conn in [&conn, &Connection::open(&db).unwrap()] {
        for write in [
            "INSERT INTO jobs (state, queue, program, created_at, updated_at, on_power_loss)
             VALUES ('queued', 'q', 'true', 1, 1, 'finish')",
            "UPDATE attempts SET outcome = 'running' WHERE id = 1",
            "UPDATE queues SET on_power_loss = 'pause' WHERE name = 'q'",
        ] {
            let ops: Vec<String> = conn
                .prepare(&format!("EXPLAIN {write}"))
                .unwrap()
                .query_map([], |r| r.get(1))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                !ops.iter().any(|op| op == "OpenEphemeral"),
                "a temporary table for: {write}"
            );
        }
    }
    // The rules are the same.
    for bad in [
        "INSERT INTO jobs (state, queue, program, created_at, updated_at)
         VALUES ('lost', 'q', 'true', 1, 1)",
        "UPDATE jobs SET on_power_loss = 'explode'",
        "INSERT INTO attempts (job_id, number, started_at, outcome) VALUES (1, 1, 1, 'odd')",
        "INSERT INTO queues (name, created_at, updated_at, on_power_loss) VALUES ('x', 1, 1, 'no')",
    ] {
        let refused = conn.execute(bad, []);
        assert!(
            matches!(&refused, Err(e) if e.to_string().contains("CHECK")),
            "{bad}: {refused:?}"
        );
    }
    let kept: String = conn
        .query_row("SELECT on_power_loss FROM jobs WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, "pause", "rows are untouched");
}
