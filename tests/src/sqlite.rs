//! A database read from outside, with SQLite's own shell (read-only), so that no test crate
//! talks SQL itself (invariant 1) and the check does not share code with what it checks.

use crate::describe;
use std::path::Path;
use std::process::Command;

/// The output of `sql` run read-only on `db` (`|` between columns, a line a row).
pub fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(db)
        .arg(sql)
        .output()
        .expect("cannot run sqlite3 (the test command installs it)");
    assert!(out.status.success(), "sqlite3 {sql}: {}", describe(&out));
    crate::text(&out.stdout).trim().to_string()
}

/// `PRAGMA integrity_check`: "ok" when the database is whole.
pub fn integrity_check(db: &Path) -> String {
    sqlite(db, "PRAGMA integrity_check;")
}

/// Runs `sql` on `db` as another program would (a person's own `sqlite3` session), to make
/// what Nightshift must cope with: a row it cannot read, say.
pub fn sqlite_write(db: &Path, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("cannot run sqlite3 (the test command installs it)");
    assert!(out.status.success(), "sqlite3 {sql}: {}", describe(&out));
}
