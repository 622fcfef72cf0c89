//! Nightshift's own footprint, read when asked (a scrape, a summary): its resident memory, CPU
//! time, open files and start time, the size of its database and write-ahead log, and the room
//! left on the disk that holds them. Read on a blocking thread: it is file I/O (invariant 4).

use nightshift_core::Paths;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelfStats {
    pub resident_bytes: u64,
    /// User and system CPU time since this process started.
    pub cpu_seconds: f64,
    /// Open file descriptors, where the platform tells.
    pub open_files: Option<u64>,
    /// When this process started, in Unix seconds.
    pub start_time_seconds: u64,
    pub database_bytes: u64,
    pub wal_bytes: u64,
    /// The file system that holds the data folder: bytes free to an unprivileged user, and its
    /// size (absent where it cannot be read).
    pub disk_free_bytes: Option<u64>,
    pub disk_size_bytes: Option<u64>,
    /// The jobs' logs folder, as last measured (once a minute, by the metrics history; absent
    /// until then, and with metrics off).
    pub logs_bytes: Option<u64>,
}

/// The bytes of the files directly in `dir` (the logs folder holds one file per job), or
/// `None` if it cannot be read.
pub(crate) fn folder_bytes(dir: &Path) -> Option<u64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            total = total.saturating_add(meta.len());
        }
    }
    Some(total)
}

pub(crate) async fn read(paths: &Paths) -> SelfStats {
    let db = paths.db_file.clone();
    tokio::task::spawn_blocking(move || read_now(&db))
        .await
        .unwrap_or_default()
}

fn read_now(db: &Path) -> SelfStats {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let mut system = System::new();
    let me = sysinfo::Pid::from_u32(std::process::id());
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[me]),
        true,
        ProcessRefreshKind::nothing().with_memory().with_cpu(),
    );
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut stats = SelfStats {
        database_bytes: size(db),
        wal_bytes: size(Path::new(&wal)),
        ..SelfStats::default()
    };
    if let Some(dir) = db.parent()
        && let Ok(fs) = nix::sys::statvfs::statvfs(dir)
    {
        // The field types are u64 on Linux; `as` keeps platforms with narrower ones building.
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        let (block, available, blocks) = (
            fs.fragment_size() as u64,
            fs.blocks_available() as u64,
            fs.blocks() as u64,
        );
        stats.disk_free_bytes = Some(available.saturating_mul(block));
        stats.disk_size_bytes = Some(blocks.saturating_mul(block));
    }
    if let Some(p) = system.process(me) {
        stats.resident_bytes = p.memory();
        stats.cpu_seconds = p.accumulated_cpu_time() as f64 / 1000.0;
        stats.open_files = p.open_files().map(|n| n as u64);
        stats.start_time_seconds = p.start_time();
    }
    stats
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_and_the_files_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("n.db");
        std::fs::write(&db, vec![0u8; 4096]).unwrap();
        std::fs::write(dir.path().join("n.db-wal"), vec![0u8; 100]).unwrap();
        let stats = super::read_now(&db);
        assert_eq!((stats.database_bytes, stats.wal_bytes), (4096, 100));
        assert!(stats.resident_bytes > 1 << 20, "{stats:?}");
        assert!(stats.open_files.is_some_and(|n| n >= 3), "{stats:?}");
        assert!(stats.start_time_seconds > 1_600_000_000, "{stats:?}");
        let (free, size) = (
            stats.disk_free_bytes.unwrap(),
            stats.disk_size_bytes.unwrap(),
        );
        assert!(size > 0 && free <= size, "{stats:?}");
    }

    #[test]
    fn a_folders_bytes_are_its_files_sizes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.log"), vec![0u8; 1000]).unwrap();
        std::fs::write(dir.path().join("2.log"), vec![0u8; 24]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(super::folder_bytes(dir.path()), Some(1024));
        assert_eq!(super::folder_bytes(&dir.path().join("missing")), None);
    }
}
