//! `nightshift top`: a live full-terminal view of the work, in the manner of htop and pm2 monit.
//! It reads the model again whenever the event stream says something changed (and once a
//! second, for elapsed times and the CPU and memory samples), and acts on keys: pause or resume
//! a queue, cancel a running job, retry a failed one, quit. Actions run on their own thread, so
//! a cancel that waits out a job's grace period never freezes the screen. When the output is
//! not a terminal (or with `--once`) it prints the same view once as plain text.

mod model;
mod view;

use crate::args::TopArgs;
use crate::client::Client;
use crate::out::outln;
use model::Model;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;
use view::{Focus, ViewState};

/// How often the model is read again without a change (elapsed times, CPU and memory).
const REFRESH: Duration = Duration::from_secs(1);
/// How long a key is waited for before the screen is drawn again.
const INPUT_WAIT: Duration = Duration::from_millis(200);

pub fn run(args: TopArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect()?;
    let model = Model::read(&client)?;
    if args.once || !std::io::stdout().is_terminal() {
        outln!("{}", view::text(&model))?;
        return Ok(ExitCode::SUCCESS);
    }
    interactive(client, model)
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Quit,
    NextTable,
    Up,
    Down,
    PauseOrResume,
    Cancel,
    Retry,
}

pub fn key(k: KeyEvent) -> Option<Key> {
    if k.kind != KeyEventKind::Press {
        return None;
    }
    Some(match k.code {
        KeyCode::Char('q') | KeyCode::Esc => Key::Quit,
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::Quit,
        KeyCode::Tab => Key::NextTable,
        KeyCode::Up | KeyCode::Char('k') => Key::Up,
        KeyCode::Down | KeyCode::Char('j') => Key::Down,
        KeyCode::Char('p') => Key::PauseOrResume,
        KeyCode::Char('c') => Key::Cancel,
        KeyCode::Char('r') => Key::Retry,
        _ => return None,
    })
}

/// A request an action makes, and what to say when it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub doing: String,
    pub done: String,
}

/// The request `key` makes on the selected row, or why it makes none.
pub fn request(key: Key, model: &Model, state: &mut ViewState) -> Result<Option<Request>, String> {
    let selected = |state: &mut ViewState, focus: Focus| state.table(focus).selected();
    match key {
        Key::PauseOrResume => {
            let i = selected(state, Focus::Queues).ok_or("no queue to pause")?;
            let q = &model.queues[i];
            let (verb, done) = if q.paused {
                ("resume", "resumed")
            } else {
                ("pause", "paused")
            };
            Ok(Some(Request {
                path: format!("/api/queues/{}/{verb}", crate::client::encode(&q.name)),
                doing: format!("{verb} queue {}…", q.name),
                done: format!("queue {} {done}", q.name),
            }))
        }
        Key::Cancel => {
            if state.focus != Focus::Running {
                return Err("select a running job first (tab to Running)".into());
            }
            let i = selected(state, Focus::Running).ok_or("no running job to cancel")?;
            let id = model.running[i].id;
            Ok(Some(Request {
                path: format!("/api/jobs/{id}/cancel"),
                doing: format!("cancelling job {id} (its group gets SIGTERM, then SIGKILL)…"),
                done: format!("job {id} cancelled"),
            }))
        }
        Key::Retry => {
            if state.focus != Focus::Failures {
                return Err("select a failed job first (tab to Last failures)".into());
            }
            let i = selected(state, Focus::Failures).ok_or("no failed job to retry")?;
            let id = model.failures[i].id;
            Ok(Some(Request {
                path: format!("/api/jobs/{id}/retry"),
                doing: format!("retrying job {id}…"),
                done: format!("job {id} is back in its queue"),
            }))
        }
        Key::Up | Key::Down => {
            let rows = match state.focus {
                Focus::Queues => model.queues.len(),
                Focus::Running => model.running.len(),
                Focus::Failures => model.failures.len(),
            };
            let table = state.table(state.focus);
            if rows > 0 {
                let at = table.selected().unwrap_or(0);
                table.select(Some(if key == Key::Up {
                    at.saturating_sub(1)
                } else {
                    (at + 1).min(rows - 1)
                }));
            }
            Ok(None)
        }
        Key::NextTable => {
            state.focus = state.focus.next();
            Ok(None)
        }
        Key::Quit => Ok(None),
    }
}

enum Message {
    Model(Result<Model, String>),
    Said(String),
}

fn interactive(client: Client, mut model: Model) -> anyhow::Result<ExitCode> {
    let (tx, rx) = mpsc::channel::<Message>();
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    {
        // Reads the model when woken (something changed, or an action ended), and every second.
        let (client, tx) = (client.clone(), tx.clone());
        std::thread::spawn(move || {
            loop {
                if let Err(mpsc::RecvTimeoutError::Disconnected) = wake_rx.recv_timeout(REFRESH) {
                    return;
                }
                while wake_rx.try_recv().is_ok() {}
                let read = Model::read(&client).map_err(|e| e.to_string());
                if tx.send(Message::Model(read)).is_err() {
                    return;
                }
            }
        });
    }
    {
        // The event stream: each `changed` wakes the reader.
        let (client, wake) = (client.clone(), wake_tx.clone());
        std::thread::spawn(move || {
            let Ok(stream) = client.stream("/api/events") else {
                return;
            };
            for line in std::io::BufReader::new(stream).lines() {
                match line {
                    Ok(line) if line.starts_with("event: changed") => {
                        if wake.send(()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
    }
    let mut terminal = ratatui::init();
    let mut state = ViewState::default();
    let result = (|| -> anyhow::Result<()> {
        loop {
            state.clamp(&model);
            terminal.draw(|f| view::draw(f, &model, &mut state))?;
            while let Ok(message) = rx.try_recv() {
                match message {
                    Message::Model(Ok(m)) => model = m,
                    Message::Model(Err(e)) => state.message = Some(format!("cannot read: {e}")),
                    Message::Said(said) => state.message = Some(said),
                }
            }
            if !event::poll(INPUT_WAIT)? {
                continue;
            }
            let Event::Key(k) = event::read()? else {
                continue;
            };
            let Some(key) = key(k) else { continue };
            if key == Key::Quit {
                return Ok(());
            }
            match request(key, &model, &mut state) {
                Ok(Some(r)) => {
                    state.message = Some(r.doing.clone());
                    let (client, tx, wake) = (client.clone(), tx.clone(), wake_tx.clone());
                    std::thread::spawn(move || {
                        let said = match client.post_empty::<serde_json::Value>(&r.path) {
                            Ok(_) => r.done,
                            Err(e) => e.to_string(),
                        };
                        let _ = tx.send(Message::Said(said));
                        let _ = wake.send(());
                    });
                }
                Ok(None) => {}
                Err(why) => state.message = Some(why),
            }
        }
    })();
    ratatui::restore();
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::top::model::tests::sample;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_map_to_what_the_footer_says() {
        assert_eq!(key(press(KeyCode::Char('q'))), Some(Key::Quit));
        assert_eq!(
            key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Key::Quit)
        );
        assert_eq!(key(press(KeyCode::Char('c'))), Some(Key::Cancel));
        assert_eq!(key(press(KeyCode::Char('p'))), Some(Key::PauseOrResume));
        assert_eq!(key(press(KeyCode::Tab)), Some(Key::NextTable));
        assert_eq!(key(press(KeyCode::Char('x'))), None);
    }

    #[test]
    fn actions_act_on_the_selected_row_of_the_focused_table() {
        let model = sample();
        let mut state = ViewState::default();
        state.clamp(&model);
        let pause = request(Key::PauseOrResume, &model, &mut state)
            .unwrap()
            .unwrap();
        assert_eq!(pause.path, "/api/queues/encode/pause");
        request(Key::Down, &model, &mut state).unwrap();
        let pause = request(Key::PauseOrResume, &model, &mut state)
            .unwrap()
            .unwrap();
        assert_eq!(pause.path, "/api/queues/render/pause");
        // Cancel needs the running table.
        assert!(request(Key::Cancel, &model, &mut state).is_err());
        request(Key::NextTable, &model, &mut state).unwrap();
        let cancel = request(Key::Cancel, &model, &mut state).unwrap().unwrap();
        assert_eq!(cancel.path, "/api/jobs/42/cancel");
        request(Key::NextTable, &model, &mut state).unwrap();
        let retry = request(Key::Retry, &model, &mut state).unwrap().unwrap();
        assert_eq!(retry.path, "/api/jobs/40/retry");
    }
}
