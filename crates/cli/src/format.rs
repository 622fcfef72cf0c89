//! Human output: tables, ages, durations.

use crate::out::{self, outln};
use nightshift_api::JobView;
use nightshift_core::duration::format_short;
// Saturating: the times come from the server, and a subtraction must not panic the client.
use nightshift_core::timestamp::until;
use std::io::{self, Write};

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn age(since_ms: i64) -> String {
    format!("{} ago", format_short(until(since_ms, now_ms())))
}

pub fn run_time(job: &JobView) -> String {
    match (job.job.started_at, job.job.finished_at) {
        (Some(start), Some(end)) => format_short(until(start, end)),
        (Some(start), None) if job.job.state == nightshift_core::JobState::Running => {
            format_short(until(start, now_ms()))
        }
        _ => "-".into(),
    }
}

pub fn exit(job: &JobView) -> String {
    match (job.job.exit_code, job.job.signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(sig)) => format!("sig {sig}"),
        _ => "-".into(),
    }
}

/// Prints rows under a header, each column as wide as its widest cell; the last column is not
/// padded (it is the command, which may be long).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    write_table(&mut io::stdout().lock(), header, rows)
}

fn write_table(w: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out::write_line(w, format_args!("{}", text.join("  ").trim_end()))
    };
    line(header.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

pub fn print_json(value: &impl serde::Serialize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    outln!("{text}")
}

/// CPU time: "0.42s" under ten seconds, "3m 12s" above.
pub fn cpu_time(ms: u64) -> String {
    if ms < 10_000 {
        format!("{:.2}s", ms as f64 / 1000.0)
    } else {
        nightshift_core::duration::format_short(std::time::Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_all_but_the_last_column() {
        let mut buf = Vec::new();
        let rows = vec![
            vec!["1".to_string(), "queued".into(), "sleep 1".into()],
            vec!["20".to_string(), "-".into(), "true".into()],
        ];
        write_table(&mut buf, &["ID", "STATE", "COMMAND"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "ID  STATE   COMMAND\n1   queued  sleep 1\n20  -       true\n"
        );
    }

    #[test]
    fn table_stops_at_a_closed_reader() {
        /// Takes the first line, then goes away, like `head -1`.
        struct Head(usize);
        impl Write for Head {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 > 0 {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                self.0 += buf.iter().filter(|&&b| b == b'\n').count();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let rows = vec![vec!["1".to_string(), "x".into()]; 30];
        let e = write_table(&mut Head(0), &["ID", "COMMAND"], &rows).unwrap_err();
        assert!(out::is_closed(&anyhow::Error::from(e)));
    }
}
