//! Reading a worker's standard output a line at a time, with a bound: a worker that writes
//! without newlines must not grow our memory without end.

use tokio::io::{AsyncRead, AsyncReadExt};

/// One read from the worker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// A whole line, without its newline.
    Line(Vec<u8>),
    /// A line longer than the bound; its bytes up to the next newline were skipped.
    TooLong(usize),
    /// The worker closed its standard output (it exited, or closed it).
    End,
}

pub(crate) struct Lines<R> {
    inner: R,
    buf: Vec<u8>,
    /// Where to look for the next newline (everything before it has none).
    scanned: usize,
    max: usize,
    /// Skipping the rest of a line that was too long; how long it has been so far.
    skipping: Option<usize>,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Lines {
            inner,
            buf: Vec::new(),
            scanned: 0,
            max,
            skipping: None,
        }
    }

    /// The next line. Cancel-safe: a read cut short keeps what it had read for the next call.
    pub(crate) async fn next(&mut self) -> std::io::Result<Read> {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|b| *b == b'\n') {
                let end = self.scanned + at;
                let line: Vec<u8> = self.buf.drain(..=end).take(end).collect();
                self.scanned = 0;
                if let Some(skipped) = self.skipping.take() {
                    return Ok(Read::TooLong(skipped + line.len()));
                }
                if line.len() > self.max {
                    return Ok(Read::TooLong(line.len()));
                }
                return Ok(Read::Line(line));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > self.max {
                // Keep nothing of an overlong line but its length.
                let skipped = self.skipping.unwrap_or(0) + self.buf.len();
                self.skipping = Some(skipped);
                self.buf.clear();
                self.scanned = 0;
            }
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                // A last line without its newline still counts.
                if !self.buf.is_empty() || self.skipping.is_some() {
                    self.scanned = 0;
                    let line = std::mem::take(&mut self.buf);
                    return Ok(match self.skipping.take() {
                        Some(skipped) => Read::TooLong(skipped + line.len()),
                        None if line.len() > self.max => Read::TooLong(line.len()),
                        None => Read::Line(line),
                    });
                }
                return Ok(Read::End);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    async fn all(input: &[u8], max: usize) -> Vec<Read> {
        let mut lines = Lines::new(input, max);
        let mut out = Vec::new();
        loop {
            let read = lines.next().await.unwrap();
            let end = read == Read::End;
            out.push(read);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_come_whole_and_an_overlong_one_is_skipped_and_measured() {
        let got = all(b"one\ntwo\n0123456789abcdef\nthree", 8).await;
        assert_eq!(
            got,
            vec![
                Read::Line(b"one".to_vec()),
                Read::Line(b"two".to_vec()),
                Read::TooLong(16),
                Read::Line(b"three".to_vec()),
                Read::End,
            ]
        );
    }

    proptest! {
        /// Any input in any bound: the lines that fit come out exactly, each overlong one is
        /// reported with its length, and nothing else comes out.
        #[test]
        fn lines_are_split_as_written(lines in proptest::collection::vec("[a-z]{0,30}", 0..20), max in 1usize..20) {
            let input: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let got = rt.block_on(all(&input, max));
            let want: Vec<Read> = lines
                .iter()
                .map(|l| if l.len() > max { Read::TooLong(l.len()) } else { Read::Line(l.clone().into_bytes()) })
                .chain(std::iter::once(Read::End))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
