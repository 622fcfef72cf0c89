//! One instance per data directory: an exclusive lock on a file in it.
//!
//! The lock is an OS file lock, so the kernel drops it when the holder dies, even by SIGKILL:
//! a stale lock file never blocks the next start. std opens files close-on-exec, so jobs never
//! inherit (and keep alive) the lock.

use crate::EngineError;
use nightshift_core::Paths;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};

/// Held for the life of the engine.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Who holds the lock, for the message a second instance prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningInstance {
    pub data_dir: std::path::PathBuf,
    pub pid: Option<u32>,
    pub address: Option<String>,
}

impl std::fmt::Display for RunningInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Nightshift is already running for {}",
            self.data_dir.display()
        )?;
        if let Some(pid) = self.pid {
            write!(f, " (pid {pid}")?;
            if let Some(addr) = &self.address {
                write!(f, ", API at {addr}")?;
            }
            write!(f, ")")?;
        }
        write!(
            f,
            "; stop it first, or set NIGHTSHIFT_HOME to use another data folder"
        )
    }
}

impl InstanceLock {
    pub fn acquire(paths: &Paths) -> Result<InstanceLock, EngineError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&paths.lock_file)
            .map_err(|e| {
                EngineError::io(format!("cannot open {}", paths.lock_file.display()), e)
            })?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| write!(file, "{}", std::process::id()))
                    .map_err(|e| EngineError::io("cannot write the lock file", e))?;
                Ok(InstanceLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let address = std::fs::read_to_string(&paths.address_file)
                    .ok()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                    .and_then(|v| v.get("url")?.as_str().map(str::to_string));
                Err(EngineError::AlreadyRunning(RunningInstance {
                    data_dir: paths.data_dir.clone(),
                    pid: pid.trim().parse().ok(),
                    address,
                }))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(EngineError::io(
                format!("cannot lock {}", paths.lock_file.display()),
                e,
            )),
        }
    }
}
