//! Real small filesystems and read-only mounts for fault tests.

use crate::describe;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of a few MiB mounted over a folder (root only: the tests run as root, as CI does),
/// unmounted on drop. Filling it gives the real ENOSPC and SQLITE_FULL of a full disk.
#[derive(Debug)]
pub struct SmallFs {
    at: PathBuf,
}

impl SmallFs {
    pub fn mount(at: &Path, size_mib: u32) -> SmallFs {
        assert!(
            nix::unistd::geteuid().is_root(),
            "mounting a small filesystem needs root (CI runs the tests as root)"
        );
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_mib}m,mode=700"))
            .arg("tmpfs")
            .arg(at)
            .output()
            .expect("cannot run mount");
        assert!(out.status.success(), "mount tmpfs: {}", describe(&out));
        SmallFs {
            at: at.to_path_buf(),
        }
    }

    /// Writes a file until the filesystem is full; returns its path (remove it to free space).
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.at.join("filler");
        let mut file = std::fs::File::create(&path).expect("cannot create the filler");
        let block = vec![0xa5u8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOSPC) => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        // The last partial page too.
        while file.write(&[0u8]).is_ok_and(|n| n == 1) {}
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        // Lazily, so a process of the test still in it does not keep the mount.
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// A file bind-mounted read-only over itself (root only), unmounted on drop: what a read-only
/// file is to a user who is not root, since root writes any file whatever its mode.
#[derive(Debug)]
pub struct ReadOnlyBind(PathBuf);

impl ReadOnlyBind {
    pub fn over(path: &Path) -> ReadOnlyBind {
        let run = |args: &[&str]| {
            let out = Command::new("mount")
                .args(args)
                .output()
                .expect("cannot run mount");
            assert!(out.status.success(), "mount {args:?}: {}", describe(&out));
        };
        let p = path.to_str().expect("a UTF-8 path");
        run(&["--bind", p, p]);
        let bind = ReadOnlyBind(path.to_path_buf());
        run(&["-o", "remount,ro,bind", p]);
        bind
    }
}

impl Drop for ReadOnlyBind {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
