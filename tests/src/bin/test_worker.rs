//! A worker for the tests, speaking the worker protocol (docs/workers.md) with the standard
//! library and serde_json alone. What each job does is its first argument:
//!
//! - `echo [WORDS…]`: succeeds with `{"args": WORDS, "payload": PAYLOAD, "pid": PID}`.
//! - `fail`: fails with the error "asked to fail".
//! - `sleep MS`: sleeps (answering a cancel at once with a failure), then succeeds.
//! - `stderr TEXT`: writes TEXT to standard error, then succeeds.
//! - `crash`: exits with code 9 in the middle of the job.
//! - `hang`: never answers, and ignores a cancel.
//! - `escape FILE`: starts a process that leaves its group (`setsid`) and writes its pid to
//!   FILE, then succeeds.
//!
//! `TEST_WORKER_CRASH_AT_START=1` makes it fail at start-up (after a line on standard error),
//! every time (`TEST_WORKER_CRASH_IF=FILE`: while FILE exists); `TEST_WORKER_HEARTBEAT_MS` makes it send heartbeats that often while it sleeps.

use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn send(message: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{message}");
    let _ = out.flush();
}

fn main() {
    let crash_if = std::env::var_os("TEST_WORKER_CRASH_IF")
        .is_some_and(|file| std::path::Path::new(&file).exists());
    if crash_if || std::env::var_os("TEST_WORKER_CRASH_AT_START").is_some_and(|v| v == "1") {
        eprintln!("cannot load the model: /models/missing.bin not found");
        std::process::exit(3);
    }
    let heartbeat = std::env::var("TEST_WORKER_HEARTBEAT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    // Standard input on its own thread, so a cancel can arrive while a job sleeps.
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let Ok(message) = serde_json::from_str(&line) else {
                eprintln!("not a message: {line}");
                continue;
            };
            if tx.send(message).is_err() {
                break;
            }
        }
    });
    send(json!({"type": "ready"}));
    while let Ok(message) = rx.recv() {
        if message["type"] != "job" {
            continue;
        }
        let id = message["id"].clone();
        let args: Vec<String> = serde_json::from_value(message["args"].clone()).unwrap_or_default();
        let action = args.first().map(String::as_str).unwrap_or("echo");
        match action {
            "fail" => {
                send(json!({"type": "result", "id": id, "ok": false, "error": "asked to fail"}))
            }
            "crash" => std::process::exit(9),
            "hang" => loop {
                std::thread::park();
            },
            "escape" => {
                let file = args.get(1).cloned().unwrap_or_default();
                let _ = std::process::Command::new("setsid")
                    .args(["sh", "-c", "echo $$ > \"$1\"; exec sleep 300", "sh", &file])
                    .spawn();
                send(json!({"type": "result", "id": id, "ok": true}));
            }
            "stderr" => {
                eprintln!("{}", args[1..].join(" "));
                send(json!({"type": "result", "id": id, "ok": true}));
            }
            "sleep" => {
                let ms: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
                let until = Instant::now() + Duration::from_millis(ms);
                let tick = heartbeat.unwrap_or(Duration::from_millis(ms));
                let answer = loop {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break json!({"type": "result", "id": id, "ok": true});
                    }
                    match rx.recv_timeout(left.min(tick)) {
                        Ok(m) if m["type"] == "cancel" => {
                            break json!({"type": "result", "id": id, "ok": false, "error": format!("stopped: {}", m["reason"])});
                        }
                        Ok(_) => {}
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if heartbeat.is_some() {
                                send(json!({"type": "heartbeat"}));
                            }
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                };
                send(answer);
            }
            _ => {
                send(
                    json!({"type": "log", "id": id, "message": format!("echoing {}", args.len())}),
                );
                let value = json!({
                    "args": args.get(1..).unwrap_or_default(),
                    "payload": message.get("payload").cloned().unwrap_or(Value::Null),
                    "pid": std::process::id(),
                });
                send(json!({"type": "result", "id": id, "ok": true, "value": value}));
            }
        }
    }
}
