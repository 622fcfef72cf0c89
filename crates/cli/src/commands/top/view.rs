//! How `top` draws its model: a header (power, totals), the queues, the running jobs and the
//! last failures, with the keys at the bottom; and the same as plain text when the output is
//! not a terminal.

use super::model::Model;
use nightshift_api::human_bytes;
use nightshift_core::duration::format_short;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use std::time::Duration;

/// Which table the arrow keys move in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Focus {
    #[default]
    Queues,
    Running,
    Failures,
}

impl Focus {
    pub fn next(self) -> Focus {
        match self {
            Focus::Queues => Focus::Running,
            Focus::Running => Focus::Failures,
            Focus::Failures => Focus::Queues,
        }
    }
}

/// What the person is doing in the view: the focused table, each table's selected row, and
/// the outcome of the last action.
#[derive(Debug, Default)]
pub struct ViewState {
    pub focus: Focus,
    pub queues: TableState,
    pub running: TableState,
    pub failures: TableState,
    pub message: Option<String>,
}

impl ViewState {
    pub fn table(&mut self, focus: Focus) -> &mut TableState {
        match focus {
            Focus::Queues => &mut self.queues,
            Focus::Running => &mut self.running,
            Focus::Failures => &mut self.failures,
        }
    }

    /// Keeps each selection on a row that exists.
    pub fn clamp(&mut self, model: &Model) {
        for (state, len) in [
            (&mut self.queues, model.queues.len()),
            (&mut self.running, model.running.len()),
            (&mut self.failures, model.failures.len()),
        ] {
            match (state.selected(), len) {
                (_, 0) => state.select(None),
                (None, _) => state.select(Some(0)),
                (Some(i), n) if i >= n => state.select(Some(n - 1)),
                _ => {}
            }
        }
    }
}

fn ms(ms: u64) -> String {
    format_short(Duration::from_millis(ms))
}

fn elapsed(now: i64, since: Option<i64>) -> String {
    since.map_or("-".into(), |t| {
        ms(u64::try_from(now.saturating_sub(t)).unwrap_or(0))
    })
}

fn header(model: &Model) -> String {
    let mut parts = vec![
        format!("running {}", model.running_count),
        format!("queued {}", model.queued),
    ];
    if let Some(rate) = model.success_rate {
        parts.push(format!("ok {:.1}% (15m)", rate * 100.0));
    }
    if let Some(p95) = model.p95_ms {
        parts.push(format!("p95 {}", ms(p95)));
    }
    parts.push(model.power.clone());
    if model.paused {
        parts.push("ALL PAUSED".into());
    }
    for problem in &model.problems {
        parts.push(format!("problem: {problem}"));
    }
    parts.join(" | ")
}

fn queue_cells(model: &Model) -> Vec<[String; 7]> {
    model
        .queues
        .iter()
        .map(|q| {
            let state = if q.paused {
                "paused".to_string()
            } else if let Some(why) = &q.held {
                format!("held: {why}")
            } else {
                String::new()
            };
            [
                q.name.clone(),
                q.queued.to_string(),
                format!("{}/{}", q.running, q.limit),
                format!("{:.1}", q.per_minute),
                q.failed.to_string(),
                q.p95_ms.map_or("-".into(), ms),
                state,
            ]
        })
        .collect()
}

const QUEUE_HEADER: [&str; 7] = [
    "QUEUE",
    "QUEUED",
    "RUN/LIMIT",
    "DONE/MIN",
    "FAILED",
    "P95",
    "",
];
const RUNNING_HEADER: [&str; 6] = ["ID", "QUEUE", "ELAPSED", "CPU", "MEM", "COMMAND"];
const FAILURE_HEADER: [&str; 5] = ["ID", "QUEUE", "AGO", "WHY", "COMMAND"];

fn running_cells(model: &Model) -> Vec<[String; 6]> {
    model
        .running
        .iter()
        .map(|j| {
            let command = match &j.paused {
                Some(why) => format!("[paused: {why}] {}", j.command),
                None => j.command.clone(),
            };
            [
                j.id.to_string(),
                j.queue.clone(),
                elapsed(model.now_ms, j.started_at),
                j.cpu_percent.map_or("-".into(), |p| format!("{p:.0}%")),
                j.rss_bytes.map_or("-".into(), human_bytes),
                command,
            ]
        })
        .collect()
}

fn failure_cells(model: &Model) -> Vec<[String; 5]> {
    model
        .failures
        .iter()
        .map(|f| {
            [
                f.id.to_string(),
                f.queue.clone(),
                elapsed(model.now_ms, f.finished_at),
                f.why.clone(),
                f.command.clone(),
            ]
        })
        .collect()
}

const KEYS: &str = "q quit · tab switch table · ↑↓ select · p pause/resume queue · c cancel job · r retry failed job";

/// Draws the whole view.
pub fn draw(frame: &mut Frame<'_>, model: &Model, state: &mut ViewState) {
    let [top, queues, running, failures, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(model.queues.len().clamp(1, 12) as u16 + 3),
        Constraint::Min(4),
        Constraint::Length(model.failures.len().clamp(1, 5) as u16 + 3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header(model)).bold(), top);

    let focus = state.focus;
    let table = |header: &'static [&'static str],
                 rows: Vec<Vec<String>>,
                 widths: Vec<Constraint>,
                 title: &'static str,
                 f: Focus|
     -> Table<'static> {
        let (border, highlight) = if focus == f {
            (
                Style::new().add_modifier(Modifier::BOLD),
                Style::new().add_modifier(Modifier::REVERSED),
            )
        } else {
            (Style::new(), Style::new())
        };
        Table::new(
            rows.into_iter()
                .map(|r| Row::new(r.into_iter().map(Cell::from))),
            widths,
        )
        .header(Row::new(header.iter().map(|h| Cell::from(*h))).dim())
        .block(Block::bordered().title(title).border_style(border))
        .row_highlight_style(highlight)
    };
    let q = table(
        &QUEUE_HEADER,
        queue_cells(model).into_iter().map(Vec::from).collect(),
        vec![
            Constraint::Min(12),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Fill(2),
        ],
        " Queues ",
        Focus::Queues,
    );
    let r = table(
        &RUNNING_HEADER,
        running_cells(model).into_iter().map(Vec::from).collect(),
        vec![
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Fill(1),
        ],
        " Running ",
        Focus::Running,
    );
    let f = table(
        &FAILURE_HEADER,
        failure_cells(model).into_iter().map(Vec::from).collect(),
        vec![
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
        " Last failures ",
        Focus::Failures,
    );
    frame.render_stateful_widget(q, queues, &mut state.queues);
    frame.render_stateful_widget(r, running, &mut state.running);
    frame.render_stateful_widget(f, failures, &mut state.failures);
    let footer = match &state.message {
        Some(message) => Line::from(vec![
            Span::raw(message.clone()).bold(),
            Span::raw("  ·  "),
            Span::raw(KEYS).dim(),
        ]),
        None => Line::from(Span::raw(KEYS).dim()),
    };
    frame.render_widget(Paragraph::new(footer), bottom);
}

/// The same view as plain text (for a pipe or a log), aligned in columns.
pub fn text(model: &Model) -> String {
    let mut out = header(model);
    out.push('\n');
    let mut section = |title: &str, header: &[&str], rows: Vec<Vec<String>>| {
        out.push('\n');
        out.push_str(title);
        out.push('\n');
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in
            std::iter::once(header.iter().map(|h| h.to_string()).collect::<Vec<_>>()).chain(rows)
        {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    };
    section(
        "Queues",
        &QUEUE_HEADER,
        queue_cells(model).into_iter().map(Vec::from).collect(),
    );
    section(
        "Running",
        &RUNNING_HEADER,
        running_cells(model).into_iter().map(Vec::from).collect(),
    );
    section(
        "Last failures",
        &FAILURE_HEADER,
        failure_cells(model).into_iter().map(Vec::from).collect(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::top::model::tests::sample;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(model: &Model, state: &mut ViewState, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        state.clamp(model);
        terminal.draw(|f| draw(f, model, state)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    #[test]
    fn the_screen_shows_queues_running_jobs_power_and_failures() {
        let model = sample();
        let text = screen(&model, &mut ViewState::default(), 120, 30);
        for expected in [
            "running 2 | queued 7 | ok 98.1% (15m) | p95 3.4s | on battery, 42%",
            "encode",
            "2/2",
            "held: on battery",
            "ffmpeg -i a.mov a.mp4",
            "1m 15s",
            "187%",
            "300.0 MiB",
            "exit 1",
            "q quit",
        ] {
            assert!(text.contains(expected), "{expected:?} not on:\n{text}");
        }
    }

    #[test]
    fn a_small_terminal_is_drawn_without_a_panic() {
        let model = sample();
        for (w, h) in [(1, 1), (20, 5), (40, 10)] {
            screen(&model, &mut ViewState::default(), w, h);
        }
    }

    #[test]
    fn selections_stay_on_rows_that_exist() {
        let mut model = sample();
        let mut state = ViewState::default();
        state.clamp(&model);
        assert_eq!(state.queues.selected(), Some(0));
        state.queues.select(Some(5));
        state.clamp(&model);
        assert_eq!(state.queues.selected(), Some(1));
        model.running.clear();
        state.clamp(&model);
        assert_eq!(state.running.selected(), None);
    }

    #[test]
    fn plain_text_has_the_same_columns() {
        let text = text(&sample());
        assert!(text.starts_with("running 2 | queued 7"), "{text}");
        assert!(
            text.contains("\nQueues\nQUEUE   QUEUED  RUN/LIMIT"),
            "{text}"
        );
        assert!(
            text.contains("42  encode  1m 15s   187%  300.0 MiB"),
            "{text}"
        );
    }
}
