//! Human output: tables, ages, durations.

use nightshift_api::JobView;
use nightshift_core::duration::format_short;
use std::time::Duration;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn age(since_ms: i64) -> String {
    format!(
        "{} ago",
        format_short(Duration::from_millis((now_ms() - since_ms).max(0) as u64))
    )
}

pub fn run_time(job: &JobView) -> String {
    match (job.job.started_at, job.job.finished_at) {
        (Some(start), Some(end)) => {
            format_short(Duration::from_millis((end - start).max(0) as u64))
        }
        (Some(start), None) if job.job.state == nightshift_core::JobState::Running => {
            format_short(Duration::from_millis((now_ms() - start).max(0) as u64))
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
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
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
        println!("{}", text.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
