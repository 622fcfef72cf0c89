//! Numbered migrations from `migrations/`, embedded at compile time and applied in one
//! transaction. The schema version lives in `PRAGMA user_version`.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Refuses a database from a newer version. Runs before anything writes to the file.
pub(crate) fn refuse_newer(conn: &Connection, path: &Path) -> Result<()> {
    let found = version(conn)?;
    if found > latest_version() {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: latest_version(),
        });
    }
    Ok(())
}

/// Applies the migrations after the current version up to `target`, all in one transaction so
/// a failure leaves the previous schema intact. Public so tests can build every earlier version.
pub fn migrate_to(conn: &Connection, target: i64) -> Result<()> {
    let current = version(conn)?;
    if current >= target {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let applied = (|| -> Result<()> {
        for (number, name, sql) in MIGRATIONS {
            if *number > current && *number <= target {
                conn.execute_batch(sql)
                    .map_err(|e| StoreError::Corrupt(format!("migration {name} failed: {e}")))?;
                tracing::info!(migration = name, "applied");
            }
        }
        conn.execute_batch(&format!("PRAGMA user_version = {target}"))?;
        Ok(())
    })();
    match applied {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
