//! Opening connections with the pragmas every connection needs.

use crate::Result;
use nightshift_core::Synchronous;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for a lock held by another before giving up. Only a checkpoint
/// or an outside tool holds one for long; the writer thread is the only writer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection. The store has about 60 distinct statements; a
/// smaller cache than
/// the set a job's life cycles through evicts each one before it comes round again, and then
/// every statement is parsed and planned anew on every use (rusqlite's default is 16).
const STATEMENT_CACHE: usize = 256;

/// The writer connection, creating the file if needed, with nothing written yet (so a
/// database from a newer version can be refused untouched).
pub(crate) fn writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Turns on WAL and sets durability; these write to the file.
pub(crate) fn configure_writer(conn: &Connection, sync: Synchronous) -> Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "SQLite refused WAL mode; continuing in this journal mode");
    }
    let sync = match sync {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {sync};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;"
    ))?;
    Ok(())
}

/// A read-only connection for queries on blocking threads.
pub(crate) fn reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}
