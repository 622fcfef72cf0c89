//! The data folder as one unit: a database that is missing beside job data, damaged, read-only
//! or from another folder is refused at start with a message that says what to do, and the
//! files are left as they were. Nightshift's files are private whatever the umask.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, ReadOnlyBind, describe, text};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A daemon that ran two jobs (one with a large payload) and stopped gracefully: a database,
/// logs and a payload file.
fn used_folder() -> Daemon {
    let mut d = Daemon::start();
    let big = format!("\"{}\"", "p".repeat(20_000));
    let payload = d.scratch().join("payload.json");
    std::fs::write(&payload, big).unwrap();
    let arg = format!("@{}", payload.display());
    let a = d.add(&["--", "echo", "one"]);
    let b = d.add(&["--payload", &arg, "--", "echo", "two"]);
    d.wait_jobs(&[a, b], JOB_TIMEOUT);
    assert!(d.terminate().success());
    d
}

fn db(d: &Daemon) -> PathBuf {
    d.home().join("nightshift.db")
}

/// The size and a hash of the database and of its WAL (if there is one with anything in it),
/// to show a refused start changed nothing.
fn snapshot(d: &Daemon) -> Vec<(PathBuf, Option<(usize, u64)>)> {
    use std::hash::{Hash, Hasher};
    let db = db(d);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db, wal]
        .into_iter()
        .map(|p| {
            let digest = std::fs::read(&p)
                .ok()
                .filter(|b| !b.is_empty())
                .map(|bytes| {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    bytes.hash(&mut h);
                    (bytes.len(), h.finish())
                });
            (p, digest)
        })
        .collect()
}

/// Starts the daemon expecting it to refuse; returns its error output.
fn refused_start(d: &Daemon) -> String {
    let out = d
        .cli_timeout(&["daemon", "--port", "0"], Duration::from_secs(30))
        .unwrap_or_else(|out| panic!("the daemon started anyway:\n{}", describe(&out)));
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(!d.home().join("daemon.json").exists());
    text(&out.stderr)
}

#[test]
fn a_deleted_database_beside_job_logs_is_refused_not_replaced() {
    let d = used_folder();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db(&d).display()));
    }
    let stderr = refused_start(&d);
    assert!(stderr.contains("is missing"), "{stderr}");
    assert!(stderr.contains("2 log files"), "{stderr}");
    assert!(!db(&d).exists(), "a new database was made: {stderr}");
    // The message's way out works: with the old job data moved aside, a fresh start.
    let aside = d.scratch().join("aside");
    std::fs::create_dir_all(&aside).unwrap();
    for name in ["logs", "payloads", "folder-id"] {
        std::fs::rename(d.home().join(name), aside.join(name)).unwrap();
    }
    let mut d = d;
    d.restart();
    assert_eq!(d.add(&["--", "true"]), 1);
}

#[test]
fn a_database_with_damaged_pages_is_refused_and_left_as_it_was() {
    let d = used_folder();
    // Overwrite every page after the first (the header stays readable) with garbage.
    let path = db(&d);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192, "the database has several pages");
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(&path, &bytes).unwrap();
    let before = snapshot(&d);
    let stderr = refused_start(&d);
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(
        stderr.contains(".recover"),
        "the message says what to do: {stderr}"
    );
    assert_eq!(snapshot(&d), before, "the refused database was changed");
}

#[test]
fn a_database_that_cannot_be_written_is_refused() {
    let d = used_folder();
    let path = db(&d);
    // Root writes any file whatever its mode, so as root the file is bind-mounted read-only
    // over itself (the folder stays writable): what a read-only file is to anyone else.
    let root = nix::unistd::geteuid().is_root();
    let _mount = if root {
        Some(ReadOnlyBind::over(&path))
    } else {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        None
    };
    let before = snapshot(&d);
    let stderr = refused_start(&d);
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert_eq!(
        stderr.matches("cannot be written").count(),
        1,
        "said once: {stderr}"
    );
    assert_eq!(snapshot(&d), before);
}

#[test]
fn a_database_from_another_folder_is_refused() {
    let d = used_folder();
    let other = used_folder();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db(&d).display()));
    }
    std::fs::copy(db(&other), db(&d)).unwrap();
    let before = snapshot(&d);
    let stderr = refused_start(&d);
    assert!(
        stderr.contains("does not belong to this data folder"),
        "{stderr}"
    );
    assert_eq!(snapshot(&d), before);
}

#[test]
fn a_copy_of_the_whole_folder_starts_as_its_own_instance() {
    let d = used_folder();
    let copy = d.scratch().join("copy");
    copy_dir(d.home(), &copy);
    let mut c = Daemon::builder().prepare();
    std::fs::remove_dir_all(c.home()).unwrap();
    copy_dir(&copy, c.home());
    c.restart();
    assert_eq!(c.state(1), "succeeded");
    assert_ne!(
        std::fs::read_to_string(c.home().join("folder-id")).unwrap(),
        std::fs::read_to_string(d.home().join("folder-id")).unwrap(),
        "the copy has an id of its own"
    );
}

#[test]
fn files_that_hold_job_data_are_private_whatever_the_umask() {
    let mut d = Daemon::builder().prepare();
    std::fs::set_permissions(d.home(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The daemon inherits a permissive umask (nextest runs each test in a process of its own,
    // so this reaches no other test).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    d.restart();
    let big = format!("\"{}\"", "s".repeat(20_000));
    let payload = d.scratch().join("payload.json");
    std::fs::write(&payload, big).unwrap();
    let arg = format!("@{}", payload.display());
    let gate = crate::Gate::new(d.scratch(), "gate");
    let id = d.add(&[
        "--payload",
        &arg,
        "--env",
        "SECRET=hunter2",
        "--",
        "sh",
        "-c",
        "echo out; read x < \"$1\"",
        "sh",
        gate.path(),
    ]);
    d.wait_running(id);
    let mut files: Vec<PathBuf> = vec![db(&d)];
    for suffix in ["-wal", "-shm"] {
        files.push(PathBuf::from(format!("{}{suffix}", db(&d).display())));
    }
    for dir in ["logs", "payloads", "run"] {
        files.extend(
            std::fs::read_dir(d.home().join(dir))
                .unwrap()
                .flatten()
                .map(|e| e.path()),
        );
    }
    // The token and daemon.json are checked with the API's security (api_security).
    files.push(d.home().join("folder-id"));
    let payload_files = files
        .iter()
        .filter(|p| p.starts_with(d.home().join("payloads")) || p.starts_with(d.home().join("run")))
        .count();
    assert!(
        payload_files >= 2,
        "a stored payload and the job's copy: {files:?}"
    );
    for file in &files {
        let mode = std::fs::metadata(file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{} is {:o}", file.display(), mode & 0o777);
    }
    for dir in ["logs", "payloads", "run"] {
        let mode = std::fs::metadata(d.home().join(dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{dir}");
    }
    gate.open();
    d.wait_jobs(&[id], JOB_TIMEOUT);
    assert!(
        d.daemon_stderr().contains("open to other users"),
        "start-up warns about the folder: {}",
        d.daemon_stderr()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
