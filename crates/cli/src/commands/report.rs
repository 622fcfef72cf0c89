//! `nightshift report`: the report of the last hours (`GET /api/report`) as Markdown, as a
//! self-contained HTML page (its chart an inline SVG, no outside resources, so it can be mailed
//! or archived as one file), or as the API's JSON.

use crate::args::{ReportArgs, ReportFormat};
use crate::client::Client;
use crate::out::outln;
use nightshift_api::{QueueSummary, Report};
use nightshift_core::duration::format_short;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let report: Report = client.get(&format!("/api/report?hours={}", args.hours))?;
    let text = match args.format {
        ReportFormat::Md => markdown(&report),
        ReportFormat::Html => html(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| {
                anyhow::anyhow!("cannot write the report to {}: {e}", path.display())
            })?;
        }
        None => outln!("{}", text.trim_end())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn local(ms: i64, format: &str) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}

fn ms(ms: Option<u64>) -> String {
    ms.map_or("-".into(), |ms| format_short(Duration::from_millis(ms)))
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or("-".into(), |r| format!("{:.1}%", r * 100.0))
}

fn per_hour(q: &QueueSummary) -> String {
    q.throughput_per_hour
        .map_or("-".into(), |t| format!("{t:.1}"))
}

/// The rows of the totals table: all queues, then each.
fn totals(report: &Report) -> Vec<Vec<String>> {
    std::iter::once(&report.summary.total)
        .chain(&report.summary.queues)
        .map(|q| {
            vec![
                q.queue.clone().unwrap_or_else(|| "all queues".into()),
                q.added.to_string(),
                q.succeeded.to_string(),
                q.failed.to_string(),
                q.cancelled.to_string(),
                q.retried.to_string(),
                percent(q.success_rate),
                per_hour(q),
                ms(q.run.p50_ms),
                ms(q.run.p95_ms),
                ms(q.run.p99_ms),
                ms(q.wait.p95_ms),
            ]
        })
        .collect()
}

const TOTALS: [&str; 12] = [
    "queue",
    "added",
    "succeeded",
    "failed",
    "cancelled",
    "retried",
    "success",
    "jobs/h running",
    "p50",
    "p95",
    "p99",
    "wait p95",
];

const SLOWEST: [&str; 5] = ["job", "queue", "state", "ran", "command"];

fn slowest(r: &Report) -> Vec<Vec<String>> {
    r.slowest
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.queue.clone(),
                s.state.to_string(),
                ms(Some(s.run_ms)),
                s.command.clone(),
            ]
        })
        .collect()
}

fn held(r: &Report) -> Vec<Vec<String>> {
    r.power_held_minutes
        .iter()
        .map(|(q, minutes)| vec![q.clone(), ms(Some(minutes.saturating_mul(60_000)))])
        .collect()
}

fn coverage(report: &Report) -> String {
    let window = u64::from(report.hours) * 60;
    let mut text = format!(
        "Nightshift ran {} of its {} minutes",
        window.saturating_sub(report.gap_minutes),
        window
    );
    match report.starts {
        0 => {}
        1 => text.push_str("; it started once"),
        n => write!(text, "; it started {n} times").unwrap_or(()),
    }
    if report.interrupted_attempts > 0 {
        write!(
            text,
            "; {} attempts were interrupted by a stop, a crash or a power loss",
            report.interrupted_attempts
        )
        .unwrap_or(());
    }
    text.push('.');
    text
}

fn why(f: &nightshift_api::FailingCommand) -> String {
    f.last_reason
        .clone()
        .unwrap_or_else(|| match (f.last_exit_code, f.last_signal) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            _ => "failed".into(),
        })
}

fn md_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let cell = |c: &str| c.replace('|', "\\|").replace('\n', " ");
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Nightshift: the last {} hours\n", r.hours);
    let _ = writeln!(
        out,
        "From {} to {}. {}\n",
        local(r.summary.from, "%Y-%m-%d %H:%M"),
        local(r.summary.to, "%Y-%m-%d %H:%M"),
        coverage(r)
    );
    let _ = writeln!(out, "## Totals\n");
    md_table(&mut out, &TOTALS, &totals(r));
    let _ = writeln!(out, "\n## Jobs finished per hour\n");
    // Hours in a row when Nightshift was not running make one line.
    let mut hours: Vec<Vec<String>> = Vec::new();
    let mut gap: Option<(i64, i64)> = None;
    let close = |gap: &mut Option<(i64, i64)>, hours: &mut Vec<Vec<String>>| {
        if let Some((first, last)) = gap.take() {
            let when = if first == last {
                local(first, "%m-%d %H:00")
            } else {
                format!(
                    "{} to {}",
                    local(first, "%m-%d %H:00"),
                    local(last, "%m-%d %H:00")
                )
            };
            hours.push(vec![
                when,
                "not running".into(),
                String::new(),
                String::new(),
            ]);
        }
    };
    for h in &r.hourly {
        if h.covered_minutes == 0 {
            gap = Some(gap.map_or((h.at, h.at), |(first, _)| (first, h.at)));
            continue;
        }
        close(&mut gap, &mut hours);
        hours.push(vec![
            local(h.at, "%m-%d %H:00"),
            h.succeeded.to_string(),
            h.failed.to_string(),
            h.cancelled.to_string(),
        ]);
    }
    close(&mut gap, &mut hours);
    md_table(
        &mut out,
        &["hour", "succeeded", "failed", "cancelled"],
        &hours,
    );
    let _ = writeln!(out, "\n## Commands that failed most\n");
    if r.failing_commands.is_empty() {
        let _ = writeln!(out, "No job failed.");
    }
    for f in &r.failing_commands {
        let _ = writeln!(
            out,
            "### `{}` (queue {}): {} failed\n\nThe last, job {}, at {}: {}.\n",
            f.command.replace('`', "'"),
            f.queue,
            f.failures,
            f.last_job,
            f.last_failed_at
                .map_or("-".into(), |t| local(t, "%Y-%m-%d %H:%M:%S")),
            why(f)
        );
        if !f.last_lines.is_empty() {
            let _ = writeln!(out, "```text\n{}\n```\n", f.last_lines.join("\n"));
        }
    }
    let _ = writeln!(out, "\n## Slowest jobs\n");
    md_table(&mut out, &SLOWEST, &slowest(r));
    let _ = writeln!(out, "\n## Held for power\n");
    if r.power_held_minutes.is_empty() {
        let _ = writeln!(out, "No queue was held for power.");
    } else {
        md_table(&mut out, &["queue", "held"], &held(r));
    }
    out
}

/// Text made safe inside HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// Jobs finished per hour as stacked bars, an inline SVG (no script, no outside resource).
fn chart(r: &Report) -> String {
    const W: f64 = 760.0;
    const H: f64 = 200.0;
    let most = r
        .hourly
        .iter()
        .map(|h| h.succeeded + h.failed + h.cancelled)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = r.hourly.len().max(1) as f64;
    let bar = W / n;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {}\" role=\"img\" \
         aria-label=\"Jobs finished per hour\">",
        H + 20.0
    );
    for (i, h) in r.hourly.iter().enumerate() {
        let x = i as f64 * bar;
        let mut y = H;
        if h.covered_minutes == 0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{:.1}\" height=\"{H}\" class=\"gap\"><title>{}: not running</title></rect>",
                bar.max(1.0),
                esc(&local(h.at, "%H:00"))
            );
        }
        for (count, class) in [
            (h.succeeded, "ok"),
            (h.failed, "failed"),
            (h.cancelled, "cancelled"),
        ] {
            if count == 0 {
                continue;
            }
            let height = count as f64 / most * H;
            y -= height;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" class=\"{class}\"><title>{}: {count} {class}</title></rect>",
                x + 1.0,
                (bar - 2.0).max(1.0),
                esc(&local(h.at, "%H:00"))
            );
        }
        if i % 6 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{}\">{}</text>",
                H + 15.0,
                esc(&local(h.at, "%H:00"))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

pub fn html(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Nightshift: the last {} hours</title><style>\
         body{{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d1d1f}}\
         table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}th,td{{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}}\
         th{{font-weight:600}}pre{{background:#f4f4f5;padding:.6rem;overflow-x:auto}}\
         svg{{width:100%;height:auto}}.ok{{fill:#2e7d32}}.failed{{fill:#c62828}}.cancelled{{fill:#9e9e9e}}.gap{{fill:#f0f0f0}}\
         svg text{{font-size:11px;fill:#555}}</style></head><body>\n",
        r.hours
    );
    let _ = writeln!(out, "<h1>Nightshift: the last {} hours</h1>", r.hours);
    let _ = writeln!(
        out,
        "<p>From {} to {}. {}</p>",
        esc(&local(r.summary.from, "%Y-%m-%d %H:%M")),
        esc(&local(r.summary.to, "%Y-%m-%d %H:%M")),
        esc(&coverage(r))
    );
    out.push_str("<h2>Totals</h2>\n");
    html_table(&mut out, &TOTALS, &totals(r));
    out.push_str("<h2>Jobs finished per hour</h2>\n");
    out.push_str(&chart(r));
    out.push_str(
        "\n<p><span style=\"color:#2e7d32\">■</span> succeeded \
         <span style=\"color:#c62828\">■</span> failed \
         <span style=\"color:#9e9e9e\">■</span> cancelled; shaded hours: Nightshift was not running.</p>\n",
    );
    out.push_str("<h2>Commands that failed most</h2>\n");
    if r.failing_commands.is_empty() {
        out.push_str("<p>No job failed.</p>\n");
    }
    for f in &r.failing_commands {
        let _ = writeln!(
            out,
            "<h3><code>{}</code> (queue {}): {} failed</h3><p>The last, job {}, at {}: {}.</p>",
            esc(&f.command),
            esc(&f.queue),
            f.failures,
            f.last_job,
            esc(&f
                .last_failed_at
                .map_or("-".into(), |t| local(t, "%Y-%m-%d %H:%M:%S"))),
            esc(&why(f))
        );
        if !f.last_lines.is_empty() {
            let _ = writeln!(out, "<pre>{}</pre>", esc(&f.last_lines.join("\n")));
        }
    }
    out.push_str("<h2>Slowest jobs</h2>\n");
    html_table(&mut out, &SLOWEST, &slowest(r));
    out.push_str("<h2>Held for power</h2>\n");
    if r.power_held_minutes.is_empty() {
        out.push_str("<p>No queue was held for power.</p>\n");
    } else {
        html_table(&mut out, &["queue", "held"], &held(r));
    }
    out.push_str("</body></html>\n");
    out
}
