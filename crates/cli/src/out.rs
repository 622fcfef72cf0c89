//! Standard output for every command. `println!` panics when stdout is closed
//! (`nightshift ls | head -1`); everything here returns the write error instead, and a closed
//! stdout is marked so `main` can tell it from any other broken pipe (say, to the daemon) and
//! end quietly. Messages for people go to stderr with `eprintln!`, as before.

use std::error::Error;
use std::fmt;
use std::io::{self, Write};

/// Prints one line to stdout, like `println!`, but returns the write error: `outln!(...)?`.
macro_rules! outln {
    () => {
        $crate::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to stdout. See `outln!`.
pub fn line(args: fmt::Arguments<'_>) -> io::Result<()> {
    write_line(&mut io::stdout().lock(), args)
}

/// Writes one line to `w`; a failure comes back as a stdout write error (see `is_closed`).
pub fn write_line(w: &mut impl Write, args: fmt::Arguments<'_>) -> io::Result<()> {
    writeln!(w, "{args}").map_err(mark)
}

/// A failed write to stdout. Kept inside the `io::Error` (same kind) so callers still see an
/// `io::Result`, while `is_closed` can tell it from other I/O errors.
#[derive(Debug)]
struct StdoutError(io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot write to standard output")
    }
}

impl Error for StdoutError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn mark(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), StdoutError(e))
}

/// Whether `e` is a write error from this module.
fn is_stdout_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<StdoutError>())
}

/// Whether the error, anywhere in its chain, is stdout having been closed by its reader: not a
/// failure, the reader has all it wants.
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe && is_stdout_error(io))
    })
}

/// Treats a closed stdout as done, for commands whose exit code says more than "printed it"
/// (the state of waited-for jobs, whether every id was acted on): they stop printing but keep
/// their own exit code. Other write errors pass through.
pub fn unless_closed(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && is_stdout_error(&e) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    /// A writer on a full disk.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28)) // ENOSPC
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_a_line() {
        let mut buf = Vec::new();
        write_line(&mut buf, format_args!("job {} {}", 7, "queued")).unwrap();
        write_line(&mut buf, format_args!("")).unwrap();
        assert_eq!(buf, b"job 7 queued\n\n");
    }

    #[test]
    fn a_closed_reader_is_a_quiet_end() {
        let e = write_line(&mut Closed, format_args!("x")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        let e = anyhow::Error::from(e);
        assert!(is_closed(&e));
        // Still recognised under context, as `?` through helpers may add it.
        assert!(is_closed(&e.context("printing the table")));
    }

    #[test]
    fn unless_closed_stops_printing_but_not_other_errors() {
        assert!(unless_closed(write_line(&mut Closed, format_args!("x"))).is_ok());
        let full = unless_closed(write_line(&mut Full, format_args!("x"))).unwrap_err();
        assert_eq!(full.raw_os_error(), None, "wrapped, with the cause kept");
        let full = anyhow::Error::from(full);
        assert!(!is_closed(&full));
        assert_eq!(
            format!("{full:#}"),
            format!(
                "cannot write to standard output: {}",
                io::Error::from_raw_os_error(28)
            )
        );
    }

    #[test]
    fn a_broken_pipe_elsewhere_is_an_error() {
        // Say the connection to the daemon broke: that must not pass for a closed stdout.
        let e = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!is_closed(&e));
        assert!(unless_closed(Err(io::ErrorKind::BrokenPipe.into())).is_err());
    }
}
