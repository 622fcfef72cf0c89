//! Files private to the user. What Nightshift writes can hold a job's data (its output, its
//! payload, its environment's secrets, the API token), so every such file is made 0600 whatever
//! the umask, and a file already there loses any wider mode. One place, so no writer forgets.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Options that create a file as 0600 (less nothing: the umask only takes bits away, and none
/// are left to take). Add `append`, `truncate`, `create_new` as the caller needs.
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Sets an open file to exactly 0600 (a file that already existed keeps its mode on open).
pub fn restrict(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes `bytes` to `path`, replacing what it held, as a 0600 file, and syncs it.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = options().truncate(true).open(path)?;
    restrict(&file)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_written_file_is_private_even_over_a_readable_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let fresh = dir.path().join("g");
        options().open(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "no bits for others, whatever the umask");
    }
}
