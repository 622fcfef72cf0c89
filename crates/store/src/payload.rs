//! Job payloads: small ones inline in the row, large ones gzip-compressed in files beside the
//! database. A file is complete (written, synced, renamed into place, its folder synced) before
//! its row commits, so a row never points at a partial file; a crash in between leaves a file with no row, which
//! `remove_orphans` deletes at the next start.

use crate::jobs::NewJob;
use crate::{Result, StoreError};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use nightshift_core::JobSpec;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Payloads smaller than this stay in the row.
pub const INLINE_LIMIT: usize = 10 * 1024;

const SUFFIX: &str = ".json.gz";
const TMP_PREFIX: &str = ".tmp-";

/// Where a stored payload is.
pub(crate) enum Stored {
    Inline(Vec<u8>),
    File { name: String, size: u64 },
}

/// A job ready for its row: the payload already placed.
pub(crate) struct Prepared {
    pub(crate) spec: JobSpec,
    pub(crate) run_at: Option<i64>,
    pub(crate) payload: Option<Stored>,
    pub(crate) after: Vec<nightshift_core::JobId>,
}

pub(crate) struct PayloadDir {
    dir: PathBuf,
    counter: AtomicU64,
}

impl PayloadDir {
    pub(crate) fn new(dir: PathBuf) -> PayloadDir {
        PayloadDir {
            dir,
            counter: AtomicU64::new(0),
        }
    }

    /// Writes the large payloads of `jobs` to files. Returns the prepared jobs and the names
    /// of the files written (to remove if the insert fails). On error, removes what it wrote.
    pub(crate) fn externalise(&self, jobs: Vec<NewJob>) -> Result<(Vec<Prepared>, Vec<String>)> {
        let mut written = Vec::new();
        let mut prepared = Vec::with_capacity(jobs.len());
        for job in jobs {
            let payload = match job.payload {
                None => None,
                Some(bytes) if bytes.len() < INLINE_LIMIT => Some(Stored::Inline(bytes)),
                Some(bytes) => match self.write_file(&bytes) {
                    Ok(name) => {
                        written.push(name.clone());
                        Some(Stored::File {
                            name,
                            size: bytes.len() as u64,
                        })
                    }
                    Err(e) => {
                        self.remove_all(&written);
                        return Err(e);
                    }
                },
            };
            prepared.push(Prepared {
                spec: job.spec,
                run_at: job.run_at,
                payload,
                after: job.after,
            });
        }
        if !written.is_empty() {
            // The renames are durable only once the folder itself is synced; a row must never
            // outlive a power cut that its file did not.
            let synced = std::fs::File::open(&self.dir).and_then(|d| d.sync_all());
            if let Err(e) = synced {
                self.remove_all(&written);
                return Err(StoreError::io("cannot sync the payloads folder", e));
            }
        }
        Ok((prepared, written))
    }

    fn write_file(&self, bytes: &[u8]) -> Result<String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("{nanos:x}-{}-{n}{SUFFIX}", std::process::id());
        let tmp = self.dir.join(format!("{TMP_PREFIX}{name}"));
        let io = |e| StoreError::io(format!("cannot write payload file {}", tmp.display()), e);
        // Payloads may hold secrets: private to the user, whatever the umask.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp).map_err(io)?;
        let mut encoder = GzEncoder::new(std::io::BufWriter::new(file), Compression::fast());
        let finished = encoder
            .write_all(bytes)
            .and_then(|()| encoder.finish())
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .and_then(|f| f.sync_all());
        if let Err(e) = finished {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        std::fs::rename(&tmp, self.dir.join(&name)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })?;
        Ok(name)
    }

    pub(crate) fn load(&self, stored: Option<Stored>) -> Result<Option<Vec<u8>>> {
        match stored {
            None => Ok(None),
            Some(Stored::Inline(bytes)) => Ok(Some(bytes)),
            Some(Stored::File { name, size }) => {
                if name.contains('/') || name.starts_with('.') {
                    return Err(StoreError::Corrupt(format!(
                        "bad payload file name '{name}'"
                    )));
                }
                let path = self.dir.join(&name);
                let io =
                    |e| StoreError::io(format!("cannot read payload file {}", path.display()), e);
                let file = std::fs::File::open(&path).map_err(io)?;
                let mut bytes = Vec::with_capacity(size as usize);
                GzDecoder::new(std::io::BufReader::new(file))
                    .read_to_end(&mut bytes)
                    .map_err(io)?;
                Ok(Some(bytes))
            }
        }
    }

    pub(crate) fn remove_all(&self, names: &[String]) {
        for name in names {
            if let Err(e) = std::fs::remove_file(self.dir.join(name))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = name, error = %e, "cannot remove payload file");
            }
        }
    }

    /// Deletes temporary files and files no row refers to.
    pub(crate) fn remove_orphans(&self, exists: impl Fn(&str) -> Result<bool>) -> Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("cannot list the payloads folder", e)),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("cannot list the payloads folder", e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let orphan = name.starts_with(TMP_PREFIX) || !exists(&name)?;
            if orphan && std::fs::remove_file(entry.path()).is_ok() {
                tracing::info!(file = name, "removed a payload file with no job");
                removed += 1;
            }
        }
        Ok(removed)
    }
}
