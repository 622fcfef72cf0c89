//! Per-job output logs with a size cap that keeps the newest output.
//!
//! A job's log is `<id>.log`, named from the numeric id alone, so nothing a user types can
//! point outside the logs folder. When it passes half the cap it becomes `<id>.log.1`
//! (replacing the previous one) and a new `<id>.log` begins: the two together never exceed the
//! cap and always hold the newest output. Reading concatenates the two.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub fn current_path(dir: &Path, id: i64) -> PathBuf {
    dir.join(format!("{id}.log"))
}

pub fn older_path(dir: &Path, id: i64) -> PathBuf {
    dir.join(format!("{id}.log.1"))
}

/// Writes a job's output, rotating at half the cap. Opens the file only when output arrives,
/// so a silent job costs no file.
#[derive(Debug)]
pub struct LogWriter {
    dir: PathBuf,
    id: i64,
    half: u64,
    file: Option<File>,
    written: u64,
    header: Option<String>,
}

impl LogWriter {
    /// `cap` is the most bytes kept for this job (at least 2).
    pub fn new(dir: &Path, id: i64, cap: u64) -> LogWriter {
        LogWriter {
            dir: dir.to_path_buf(),
            id,
            half: (cap / 2).max(1),
            file: None,
            written: 0,
            header: None,
        }
    }

    /// A line written before the first output (for example which attempt this is).
    pub fn with_header(mut self, line: String) -> LogWriter {
        self.header = Some(line);
        self
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(current_path(&self.dir, self.id))?;
            self.written = file.metadata()?.len();
            self.file = Some(file);
            if let Some(header) = self.header.take() {
                self.write_all(header.as_bytes())?;
            }
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        std::fs::rename(
            current_path(&self.dir, self.id),
            older_path(&self.dir, self.id),
        )?;
        self.open()?;
        Ok(())
    }

    /// Appends `buf`, keeping at most the cap.
    pub fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            self.open()?;
            if self.written >= self.half {
                self.rotate()?;
            }
            // A chunk larger than a whole segment: only its newest part can be kept.
            if buf.len() as u64 > self.half {
                buf = &buf[buf.len() - self.half as usize..];
            }
            let room = (self.half - self.written) as usize;
            let (now, later) = buf.split_at(room.min(buf.len()));
            self.open()?.write_all(now)?;
            self.written += now.len() as u64;
            buf = later;
        }
        Ok(())
    }

    /// Copies everything from `reader` until end of file. Runs on a blocking thread.
    pub fn copy_from(mut self, mut reader: impl Read) -> io::Result<u64> {
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    self.write_all(&buf[..n])?;
                    total += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn read_if_exists(path: &Path, out: &mut Vec<u8>) -> io::Result<()> {
    match File::open(path) {
        Ok(mut f) => f.read_to_end(out).map(|_| ()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The whole kept log, or its last `lines` lines.
pub fn read(dir: &Path, id: i64, lines: Option<usize>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    read_if_exists(&older_path(dir, id), &mut out)?;
    read_if_exists(&current_path(dir, id), &mut out)?;
    if let Some(n) = lines {
        let start = tail_start(&out, n);
        out.drain(..start);
    }
    Ok(out)
}

/// The offset where the last `n` lines begin (a final line without newline counts as a line).
fn tail_start(buf: &[u8], n: usize) -> usize {
    if n == 0 {
        return buf.len();
    }
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

/// Removes a job's log files.
pub fn remove(dir: &Path, id: i64) -> io::Result<()> {
    for path in [current_path(dir, id), older_path(dir, id)] {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads a log as it grows, across rotations (like `tail -F`).
#[derive(Debug)]
pub struct Follower {
    dir: PathBuf,
    id: i64,
    file: Option<(File, u64)>,
}

impl Follower {
    pub fn new(dir: &Path, id: i64) -> Follower {
        Follower {
            dir: dir.to_path_buf(),
            id,
            file: None,
        }
    }

    /// Starts at the last `lines` lines (or the whole log) and returns them.
    pub fn start(&mut self, lines: Option<usize>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        read_if_exists(&older_path(&self.dir, self.id), &mut out)?;
        if let Some((mut f, ino)) = self.open_current()? {
            f.read_to_end(&mut out)?;
            self.file = Some((f, ino));
        }
        if let Some(n) = lines {
            let start = tail_start(&out, n);
            out.drain(..start);
        }
        Ok(out)
    }

    fn open_current(&self) -> io::Result<Option<(File, u64)>> {
        match File::open(current_path(&self.dir, self.id)) {
            Ok(f) => {
                let ino = f.metadata()?.ino();
                Ok(Some((f, ino)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Everything written since the last call.
    pub fn read_new(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Some((f, _)) = self.file.as_mut() {
            f.read_to_end(&mut out)?;
        }
        let now = self.open_current()?;
        let rotated = match (&self.file, &now) {
            (Some((_, ino)), Some((_, new_ino))) => ino != new_ino,
            (None, Some(_)) => true,
            _ => false,
        };
        if rotated && let Some((mut f, ino)) = now {
            f.seek(SeekFrom::Start(0))?;
            f.read_to_end(&mut out)?;
            self.file = Some((f, ino));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_output_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LogWriter::new(dir.path(), 7, 100);
        let mut all = Vec::new();
        for i in 0..40 {
            let line = format!("line {i:02}\n");
            all.extend_from_slice(line.as_bytes());
            w.write_all(line.as_bytes()).unwrap();
        }
        let kept = read(dir.path(), 7, None).unwrap();
        assert!(kept.len() <= 100, "kept {} bytes", kept.len());
        assert!(all.ends_with(&kept), "kept output is not the newest");
        assert!(kept.len() >= 50, "kept too little: {}", kept.len());
    }

    #[test]
    fn a_huge_chunk_keeps_its_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LogWriter::new(dir.path(), 1, 10);
        w.write_all(b"0123456789abcdefghij").unwrap();
        let kept = read(dir.path(), 1, None).unwrap();
        assert!(b"0123456789abcdefghij".ends_with(&kept));
        assert!(kept.ends_with(b"fghij"));
    }

    #[test]
    fn tail_counts_lines_from_the_end() {
        assert_eq!(tail_start(b"a\nb\nc\n", 2), 2);
        assert_eq!(tail_start(b"a\nb\nc", 1), 4);
        assert_eq!(tail_start(b"a\nb\n", 5), 0);
    }

    #[test]
    fn a_silent_job_has_no_file_and_follow_sees_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let w = LogWriter::new(dir.path(), 3, 40);
        drop(w);
        assert!(!current_path(dir.path(), 3).exists());
        let mut f = Follower::new(dir.path(), 3);
        assert!(f.start(None).unwrap().is_empty());
        let mut w = LogWriter::new(dir.path(), 3, 40);
        let mut seen = Vec::new();
        for i in 0..10 {
            w.write_all(format!("{i}23456789\n").as_bytes()).unwrap();
            seen.extend(f.read_new().unwrap());
        }
        let expected: Vec<u8> = (0..10)
            .flat_map(|i| format!("{i}23456789\n").into_bytes())
            .collect();
        assert_eq!(
            String::from_utf8(seen).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
