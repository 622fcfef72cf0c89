//! The worker protocol: JSON Lines over the worker's standard input (Nightshift to worker) and
//! standard output (worker to Nightshift), in the manner of Bazel's persistent workers. One
//! JSON object per line, its kind in `"type"`. docs/workers.md describes it with a complete
//! exchange; this is its one implementation.
//!
//! What a worker sends is checked strictly (an unknown field or a missing one is an error that
//! names it), because a typo in a result would otherwise pass silently. What Nightshift sends
//! may grow new fields: workers are told to ignore fields they do not know.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest line a worker may send, newline excluded: a result value, a log line or a
/// progress message beyond this is a protocol error, not a read without end.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Payloads up to this size travel inline in the job message; larger ones as a file path.
pub const MAX_INLINE_PAYLOAD_BYTES: usize = 64 * 1024;

/// Nightshift to worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Do this job, then answer with its `result`. One at a time: the next job comes only after
    /// the result.
    Job(JobMessage),
    /// Stop the job `id` now (cancelled, or past its deadline). The worker answers with a
    /// result (a failure), or Nightshift kills its group after the kill grace.
    Cancel { id: i64, reason: String },
}

/// One job for a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMessage {
    /// The job's id (also in its log and in `nightshift show`).
    pub id: i64,
    /// Which attempt this is, from 1: a job handed back after a crash comes again with the next.
    pub attempt: u32,
    /// The job's arguments (`nightshift add --queue q -- ARGS...`); often empty.
    pub args: Vec<String>,
    /// The job's payload, inline when small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// The payload's file, when it is too large to send inline (read it, do not delete it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_file: Option<String>,
    /// When the job times out (Unix ms), if it has a timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
}

/// Worker to Nightshift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromWorker {
    /// The worker has started up and takes jobs (sent once, before the first job). Until then
    /// it is "starting"; a worker that exits before it is a start-up crash.
    Ready,
    /// The job's outcome. `ok: false` fails the attempt (retries apply as for any job).
    Result {
        id: i64,
        ok: bool,
        /// Kept with the attempt and shown by `show` (at most 64 KiB of JSON).
        #[serde(default)]
        value: Option<Value>,
        /// Why it failed, in words.
        #[serde(default)]
        error: Option<String>,
    },
    /// How far the job has come; any of the fields.
    Progress {
        id: i64,
        #[serde(default)]
        done: Option<u64>,
        #[serde(default)]
        total: Option<u64>,
        #[serde(default)]
        message: Option<String>,
    },
    /// "Still alive" (needed only by pools with `--heartbeat`; any message counts too).
    Heartbeat,
    /// A line for the log of the job `id` (or the worker's own log without one).
    Log {
        #[serde(default)]
        id: Option<i64>,
        message: String,
    },
}

/// What one line from a worker was.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Message(FromWorker),
    /// Not a protocol line at all (it does not start with `{`): text a library printed to
    /// standard output. It goes to the log as it is.
    Text(String),
}

/// A line that looks like a message and is not a valid one; the text says what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid message from the worker: {0}")]
pub struct ProtocolError(pub String);

/// Reads one line (without its newline; a trailing "\r" is dropped).
pub fn parse_line(line: &[u8]) -> Result<Line, ProtocolError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(ProtocolError(format!(
            "a line of {} bytes, over the limit of {MAX_LINE_BYTES}",
            line.len()
        )));
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line)
        .map_err(|e| ProtocolError(format!("not UTF-8 (at byte {})", e.valid_up_to())))?;
    if !text.trim_start().starts_with('{') {
        return Ok(Line::Text(text.to_string()));
    }
    let message: FromWorker =
        serde_json::from_str(text).map_err(|e| ProtocolError(describe(&e, text)))?;
    check(&message)?;
    Ok(Line::Message(message))
}

/// serde's message, with the line quoted (shortened) so the log says what was sent.
fn describe(e: &serde_json::Error, text: &str) -> String {
    const SHOWN: usize = 200;
    let shown: String = text.chars().take(SHOWN).collect();
    let more = if text.chars().nth(SHOWN).is_some() {
        "…"
    } else {
        ""
    };
    format!("{e} in {shown}{more}")
}

/// What serde cannot say: ids are positive, a failure says why.
fn check(message: &FromWorker) -> Result<(), ProtocolError> {
    let id = match message {
        FromWorker::Result { id, .. } | FromWorker::Progress { id, .. } => Some(*id),
        FromWorker::Log { id, .. } => *id,
        FromWorker::Ready | FromWorker::Heartbeat => None,
    };
    if let Some(id) = id
        && id <= 0
    {
        return Err(ProtocolError(format!("job id {id}: ids are positive")));
    }
    if let FromWorker::Progress {
        done: Some(done),
        total: Some(total),
        ..
    } = message
        && done > total
    {
        return Err(ProtocolError(format!(
            "progress done {done} is more than its total {total}"
        )));
    }
    Ok(())
}

/// One message to a worker, as the line to write (with its newline).
pub fn encode(message: &ToWorker) -> Vec<u8> {
    // Serializing these types cannot fail: every field is a plain value or already JSON.
    let mut line = serde_json::to_vec(message).unwrap_or_default();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn parsed(text: &str) -> Result<Line, ProtocolError> {
        parse_line(text.as_bytes())
    }

    #[test]
    fn reads_each_kind_of_message() {
        assert_eq!(
            parsed(r#"{"type":"ready"}"#),
            Ok(Line::Message(FromWorker::Ready))
        );
        assert_eq!(
            parsed(r#"{"type":"result","id":4,"ok":true,"value":{"vectors":3}}"#),
            Ok(Line::Message(FromWorker::Result {
                id: 4,
                ok: true,
                value: Some(json!({"vectors": 3})),
                error: None
            }))
        );
        assert_eq!(
            parsed("{\"type\":\"log\",\"message\":\"warming up\"}\r"),
            Ok(Line::Message(FromWorker::Log {
                id: None,
                message: "warming up".into()
            }))
        );
        assert_eq!(
            parsed(r#"{"type":"progress","id":4,"done":1,"total":3}"#),
            Ok(Line::Message(FromWorker::Progress {
                id: 4,
                done: Some(1),
                total: Some(3),
                message: None
            }))
        );
    }

    #[test]
    fn plain_text_is_text_and_a_bad_message_names_its_problem() {
        assert_eq!(
            parsed("Loading model..."),
            Ok(Line::Text("Loading model...".into()))
        );
        let err = |t: &str| parsed(t).unwrap_err().0;
        assert!(err(r#"{"type":"result","id":4,"ok":true,"vlaue":1}"#).contains("vlaue"));
        assert!(err(r#"{"type":"result","id":4}"#).contains("ok"));
        assert!(err(r#"{"type":"shout"}"#).contains("shout"));
        assert!(err(r#"{"type":"result","id":0,"ok":true}"#).contains("positive"));
        assert!(err(r#"{"type":"progress","id":2,"done":5,"total":3}"#).contains("total"));
        assert!(err(r#"{"type":"result","#).contains("EOF"));
        assert!(parse_line(&[b'{', 0xff]).unwrap_err().0.contains("UTF-8"));
        let long = vec![b' '; MAX_LINE_BYTES + 1];
        assert!(parse_line(&long).unwrap_err().0.contains("limit"));
    }

    #[test]
    fn a_job_is_one_line_with_only_what_it_has() {
        let line = encode(&ToWorker::Job(JobMessage {
            id: 7,
            attempt: 1,
            args: vec!["a b".into()],
            payload: Some(json!({"doc": "x\ny"})),
            payload_file: None,
            deadline: None,
        }));
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"type\":\"job\",\"id\":7,\"attempt\":1,\"args\":[\"a b\"],\"payload\":{\"doc\":\"x\\ny\"}}\n"
        );
    }

    fn from_worker() -> impl Strategy<Value = FromWorker> {
        let id = 1..i64::MAX;
        let text = ".{0,40}";
        let value = prop_oneof![
            Just(None),
            any::<i64>().prop_map(|n| Some(json!(n))),
            text.prop_map(|s| Some(json!({ "s": s }))),
        ];
        prop_oneof![
            Just(FromWorker::Ready),
            Just(FromWorker::Heartbeat),
            (id.clone(), any::<bool>(), value, proptest::option::of(text)).prop_map(
                |(id, ok, value, error)| FromWorker::Result {
                    id,
                    ok,
                    value,
                    error
                }
            ),
            (id.clone(), 0..1000u64, proptest::option::of(text)).prop_map(|(id, done, message)| {
                FromWorker::Progress {
                    id,
                    done: Some(done),
                    total: Some(done + 1),
                    message,
                }
            }),
            (proptest::option::of(id), text)
                .prop_map(|(id, message)| FromWorker::Log { id, message }),
        ]
    }

    proptest! {
        /// Whatever a worker sends, the parser answers (never panics) within the line limit.
        #[test]
        fn any_bytes_are_text_a_message_or_a_named_error(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            match parse_line(&line) {
                Ok(_) => {}
                Err(ProtocolError(why)) => prop_assert!(!why.is_empty()),
            }
        }

        /// Every message a worker can send reads back as itself.
        #[test]
        fn every_message_round_trips(message in from_worker()) {
            let line = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(parse_line(line.as_bytes()), Ok(Line::Message(message)));
        }

        /// A job message is always exactly one line: payload text with newlines stays escaped.
        #[test]
        fn a_job_message_is_one_line(id in 1..i64::MAX, args in proptest::collection::vec(".*", 0..4), doc in ".*") {
            let line = encode(&ToWorker::Job(JobMessage {
                id, attempt: 1, args, payload: Some(json!({ "doc": doc })), payload_file: None, deadline: None,
            }));
            prop_assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
            prop_assert_eq!(line.last(), Some(&b'\n'));
            let back: ToWorker = serde_json::from_slice(&line).unwrap();
            let back_id = match back { ToWorker::Job(job) => job.id, ToWorker::Cancel { id, .. } => -id };
            prop_assert_eq!(back_id, id);
        }
    }
}
