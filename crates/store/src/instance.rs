//! This database's instance id (migration 0011): a random id that every job's processes carry
//! in their environment, so that recovery after a crash tells this Nightshift's processes from
//! another's. The id belongs to the database file where it was made: a copy of the data
//! directory opened elsewhere (a backup restored beside the original, a test home copied) gets
//! an id of its own on first open, so two copies running at once never share one.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// The id for the database at `db`, made anew if it was made for another path.
pub(crate) fn id_for(conn: &Connection, db: &Path) -> Result<String> {
    // The canonical path, so that one file reached by two names keeps one id.
    let here = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let here = here.to_string_lossy().to_string();
    let stored: Option<(String, Option<String>)> = conn
        .query_row("SELECT id, path FROM instance", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((id, path)) = stored else {
        return Err(StoreError::Corrupt(
            "the database has no instance id".into(),
        ));
    };
    match path {
        Some(path) if path == here => Ok(id),
        // Made with the database (the path is filled in on first open): keep the id.
        None => {
            conn.execute("UPDATE instance SET path = ?1", params![here])?;
            Ok(id)
        }
        Some(_) => {
            let id: String = conn.query_row(
                "UPDATE instance SET id = lower(hex(randomblob(16))), path = ?1 RETURNING id",
                params![here],
                |r| r.get(0),
            )?;
            tracing::info!(%id, "the data directory was copied or moved: a new instance id");
            Ok(id)
        }
    }
}
