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
    /// Bytes discarded since the last successful write (noted in the log when writing resumes).
    gap: u64,
    /// Bytes discarded in all.
    lost: u64,
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
            gap: 0,
            lost: 0,
        }
    }

    /// A line written before the first output (for example which attempt this is).
    pub fn with_header(mut self, line: String) -> LogWriter {
        self.header = Some(line);
        self
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let mut options = OpenOptions::new();
            options.create(true).append(true);
            // A job's output may hold secrets: private to the user, whatever the umask.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(current_path(&self.dir, self.id))?;
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
            // A chunk larger than a segment is written piece by piece, rotating as it goes:
            // cutting it short instead would leave a gap between the kept segments.
            let room = (self.half - self.written) as usize;
            let (now, later) = buf.split_at(room.min(buf.len()));
            self.open()?.write_all(now)?;
            self.written += now.len() as u64;
            buf = later;
        }
        Ok(())
    }

    /// Appends `buf` like [`LogWriter::write_all`], but a failure (disk full, a failed rotation)
    /// does not stop the job's output from draining: the chunk is discarded, the first failure
    /// is logged, and the next chunk tries again. Stopping would close the pipe and kill the job
    /// with SIGPIPE. When writing works again, a line in the log says how much was lost.
    pub fn write_or_discard(&mut self, buf: &[u8]) {
        let result = if self.gap > 0 {
            let note = format!(
                "--- nightshift: {} bytes of output were lost (the log could not be written) ---\n",
                self.gap
            );
            self.write_all(note.as_bytes())
                .and_then(|()| self.write_all(buf))
        } else {
            self.write_all(buf)
        };
        match result {
            Ok(()) => self.gap = 0,
            Err(e) => {
                if self.lost == 0 {
                    tracing::warn!(
                        job = self.id,
                        log = %current_path(&self.dir, self.id).display(),
                        error = %e,
                        "cannot write the job's output; discarding it until writing works again"
                    );
                }
                self.gap += buf.len() as u64;
                self.lost += buf.len() as u64;
            }
        }
    }

    /// Bytes [`LogWriter::write_or_discard`] had to discard.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Logs how much output was discarded, if any.
    pub(crate) fn report_loss(&self) {
        if self.lost > 0 {
            tracing::warn!(
                job = self.id,
                lost = self.lost,
                "some of the job's output was not logged"
            );
        }
    }

    /// Copies everything from `reader` until end of file, on a blocking thread. A failure to
    /// write does not stop the copy (see [`LogWriter::write_or_discard`]); only a read error
    /// does.
    pub fn copy_from(mut self, mut reader: impl Read) -> io::Result<u64> {
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    self.report_loss();
                    return Ok(total);
                }
                Ok(n) => {
                    self.write_or_discard(&buf[..n]);
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
///
/// A rotation renames `<id>.log` to `<id>.log.1` while the follower may hold the old file open.
/// The open file still refers to the renamed segment, whose last bytes may not have been read
/// yet, so on a rotation the old file is read to its end before moving on. Inode numbers are
/// only compared between files held open, so a recycled inode cannot be mistaken for another.
#[derive(Debug)]
pub struct Follower {
    dir: PathBuf,
    id: i64,
    file: Option<Segment>,
}

/// An open log file and its inode.
#[derive(Debug)]
struct Segment {
    file: File,
    ino: u64,
}

impl Segment {
    fn open(path: &Path) -> io::Result<Option<Segment>> {
        match File::open(path) {
            Ok(file) => {
                let ino = file.metadata()?.ino();
                Ok(Some(Segment { file, ino }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn ino(segment: &Option<Segment>) -> Option<u64> {
    segment.as_ref().map(|s| s.ino)
}

/// How many times to look again when the log rotates while its files are being opened.
const SETTLE_TRIES: usize = 8;

impl Follower {
    pub fn new(dir: &Path, id: i64) -> Follower {
        Follower {
            dir: dir.to_path_buf(),
            id,
            file: None,
        }
    }

    /// Opens the current segment and the one before it, as a pair that belongs together: the
    /// current file is opened before and after the older one, and only when both opens find the
    /// same file is the older one known to be its direct predecessor. A writer rotates at most
    /// once per half cap, so this settles at once unless the job writes furiously; after a few
    /// tries the last pair is used.
    fn open_pair(&self) -> io::Result<(Option<Segment>, Option<Segment>)> {
        let current = current_path(&self.dir, self.id);
        let older = older_path(&self.dir, self.id);
        let mut now = Segment::open(&current)?;
        let mut tries = 0;
        loop {
            let before = Segment::open(&older)?;
            let again = Segment::open(&current)?;
            tries += 1;
            if ino(&again) == ino(&now) || tries >= SETTLE_TRIES {
                return Ok((now, before));
            }
            now = again;
        }
    }

    /// Starts at the last `lines` lines (or the whole log) and returns them.
    pub fn start(&mut self, lines: Option<usize>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let (current, older) = self.open_pair()?;
        let mut older = older.filter(|o| Some(o.ino) != ino(&current));
        if let Some(older) = older.as_mut() {
            older.file.read_to_end(&mut out)?;
        }
        // Remember what was read last, so `read_new` knows which segments are new. Without a
        // current file that is `.1`: once a current file appears, it is a rotation from there.
        self.file = match (current, older) {
            (Some(mut current), _) => {
                current.file.read_to_end(&mut out)?;
                Some(current)
            }
            (None, older) => older,
        };
        if let Some(n) = lines {
            let start = tail_start(&out, n);
            out.drain(..start);
        }
        Ok(out)
    }

    /// Everything written since the last call. Nothing is lost as long as less than about the
    /// cap is written between two calls; beyond that the log itself no longer has it.
    pub fn read_new(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let (current, older) = self.open_pair()?;
        let Some(mut current) = current else {
            // No current file: nothing yet, removed, or caught between rename and re-creation
            // (the next call sees the new file as a rotation).
            if let Some(seen) = self.file.as_mut() {
                seen.file.read_to_end(&mut out)?;
            }
            return Ok(out);
        };
        let seen = match self.file.as_mut() {
            Some(seen) if seen.ino == current.ino => {
                seen.file.read_to_end(&mut out)?;
                return Ok(out);
            }
            Some(seen) => {
                // Rotated: the renamed segment is complete; finish it first.
                seen.file.read_to_end(&mut out)?;
                Some(seen.ino)
            }
            None => None,
        };
        // A segment written and rotated since the last call (or, on a first read, the older
        // segment) sits in `.1`.
        if let Some(mut between) = older
            && Some(between.ino) != seen
            && between.ino != current.ino
        {
            between.file.read_to_end(&mut out)?;
        }
        current.file.seek(SeekFrom::Start(0))?;
        current.file.read_to_end(&mut out)?;
        self.file = Some(current);
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

    /// A small deterministic generator, so the interleaving is varied but reproducible.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn following_loses_nothing_across_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let cap = 64;
        let mut w = LogWriter::new(dir.path(), 5, cap);
        let mut written = Vec::new();
        let chunk = |w: &mut LogWriter, written: &mut Vec<u8>, len: u64| {
            let bytes: Vec<u8> = (0..len)
                .map(|i| b'a' + ((written.len() as u64 + i) % 26) as u8)
                .collect();
            w.write_all(&bytes).unwrap();
            written.extend_from_slice(&bytes);
        };
        // Already rotated once before following starts.
        for _ in 0..5 {
            chunk(&mut w, &mut written, 8);
        }
        let mut f = Follower::new(dir.path(), 5);
        let mut seen = f.start(None).unwrap();
        assert_eq!(seen, written);
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            // Up to the whole cap between two reads: up to two rotations, the second one
            // leaving a whole segment that was never seen as the current file.
            let mut budget = next(&mut seed) % (cap + 1);
            while budget > 0 {
                let len = (next(&mut seed) % 9 + 1).min(budget);
                chunk(&mut w, &mut written, len);
                budget -= len;
            }
            seen.extend(f.read_new().unwrap());
            assert!(
                written.starts_with(&seen) && seen.len() == written.len(),
                "lost or garbled output after {} bytes",
                written.len()
            );
        }
    }

    #[test]
    fn following_a_log_written_at_the_same_time_loses_nothing() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let cap = 256;
        let total: u64 = 100_000;
        // How far the follower has read: the writer never gets a whole cap ahead, so the log
        // always still holds everything not yet read (up to two rotations between reads).
        let read_so_far = Arc::new(AtomicU64::new(0));
        let writer = {
            let (dir, read_so_far) = (dir.path().to_path_buf(), read_so_far.clone());
            std::thread::spawn(move || {
                let mut w = LogWriter::new(&dir, 9, cap);
                let (mut written, mut seed) = (0u64, 0x2545_f491_4f6c_dd1d_u64);
                while written < total {
                    let len = (next(&mut seed) % 16 + 1).min(total - written);
                    while written + len - read_so_far.load(Ordering::Acquire) > cap - 16 {
                        std::thread::yield_now();
                    }
                    let bytes: Vec<u8> = (written..written + len)
                        .map(|i| b'a' + (i % 26) as u8)
                        .collect();
                    w.write_all(&bytes).unwrap();
                    written += len;
                }
            })
        };
        let expected: Vec<u8> = (0..total).map(|i| b'a' + (i % 26) as u8).collect();
        let mut f = Follower::new(dir.path(), 9);
        let mut seen = f.start(None).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            assert!(
                expected.starts_with(&seen),
                "lost or garbled output after {} bytes",
                seen.len()
            );
            if seen.len() as u64 == total {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "stuck at {}",
                seen.len()
            );
            read_so_far.store(seen.len() as u64, Ordering::Release);
            seen.extend(f.read_new().unwrap());
        }
        writer.join().unwrap();
    }

    #[test]
    fn output_that_cannot_be_written_is_counted_and_noted_when_writing_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let mut w = LogWriter::new(&logs, 2, 1024);
        w.write_or_discard(b"lost\n");
        w.write_or_discard(b"also lost\n");
        assert_eq!(w.lost(), 15);
        std::fs::create_dir(&logs).unwrap();
        w.write_or_discard(b"kept\n");
        w.write_or_discard(b"and this\n");
        assert_eq!(
            String::from_utf8(read(&logs, 2, None).unwrap()).unwrap(),
            "--- nightshift: 15 bytes of output were lost (the log could not be written) ---\n\
             kept\nand this\n"
        );
    }
}

#[cfg(test)]
mod continuity_tests {
    use super::*;

    #[test]
    fn big_chunks_keep_the_kept_output_contiguous() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LogWriter::new(dir.path(), 9, 64);
        let mut all = Vec::new();
        for chunk in 0..20u8 {
            let piece: Vec<u8> = (0..(chunk as usize * 7 % 50 + 1))
                .map(|i| b'a' + ((i + chunk as usize) % 26) as u8)
                .collect();
            all.extend_from_slice(&piece);
            w.write_all(&piece).unwrap();
        }
        let kept = read(dir.path(), 9, None).unwrap();
        assert!(kept.len() <= 64 && kept.len() >= 32, "kept {}", kept.len());
        assert!(
            all.ends_with(&kept),
            "the kept output is not one stretch of the newest bytes"
        );
    }
}
