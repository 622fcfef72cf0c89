//! Payloads: a large one reaches the job byte for byte and lives in a file, not in the
//! database; one over the cap is refused (CLI and HTTP) and leaves nothing behind.

use crate::{error_body, listed_ids, ls_json, sh};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, contains_bytes, describe, text};
use std::collections::BTreeSet;
use std::path::Path;

const MIB: usize = 1024 * 1024;
const DEFAULT_CAP: u64 = 10 * 1024 * 1024;

/// Copies the job's payload file to $1.
const COPY_PAYLOAD: &str = "cp \"$NIGHTSHIFT_PAYLOAD_FILE\" \"$1\"";

/// A JSON string value of at least `len` bytes with varied content: ASCII, multi-byte UTF-8
/// and JSON escapes, from a fixed-seed xorshift generator.
fn varied_json_string(len: usize, seed: u64) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state = seed | 1;
    let mut s = String::with_capacity(len + 8);
    s.push('"');
    while s.len() + 1 < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 24 {
            0 => s.push_str("\\n"),
            1 => s.push_str("\\\""),
            2 => s.push_str("\\u00e9"),
            3 => s.push_str("\\\\"),
            4 => s.push('é'),
            5 => s.push('漢'),
            6 => s.push('🌙'),
            7 | 8 => s.push(' '),
            _ => s.push(ALNUM[((state >> 16) % ALNUM.len() as u64) as usize] as char),
        }
    }
    s.push('"');
    s
}

fn dir_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The database and its side files, as they are on disk now.
fn database_bytes(home: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "nightshift.db",
        "nightshift.db-wal",
        "nightshift.db-shm",
        "nightshift.db-journal",
    ]
    .iter()
    .filter_map(|name| Some((name.to_string(), std::fs::read(home.join(name)).ok()?)))
    .collect()
}

fn in_database(home: &Path, needle: &[u8]) -> Vec<String> {
    database_bytes(home)
        .into_iter()
        .filter(|(_, bytes)| contains_bytes(bytes, needle))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn a_5_mib_payload_round_trips_byte_for_byte_and_lives_outside_the_database() {
    let d = Daemon::start();
    let payloads = d.home().join("payloads");
    let before = dir_names(&payloads);

    let payload = varied_json_string(5 * MIB, 0x9e37_79b9_7f4a_7c15);
    serde_json::from_str::<serde_json::Value>(&payload).expect("the generated payload is JSON");
    let source = d.scratch().join("payload.json");
    std::fs::write(&source, &payload).unwrap();
    let copy = d.scratch().join("copy.json");
    let payload_arg = format!("@{}", source.display());
    let mut args = vec!["--payload", payload_arg.as_str()];
    args.extend(sh(COPY_PAYLOAD, &[copy.to_str().unwrap()]));
    let id = d.add(&args);

    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(detail["job"]["payload_size"], payload.len() as u64);
    let copied = std::fs::read(&copy).expect("the job wrote no copy of its payload");
    assert_eq!(
        copied.len(),
        payload.len(),
        "payload size changed on the way"
    );
    assert!(
        copied == payload.as_bytes(),
        "payload bytes changed on the way"
    );

    // A 64-byte piece from the middle is in no database file...
    let mut start = payload.len() / 2;
    while !payload.is_char_boundary(start) {
        start += 1;
    }
    let needle = &payload.as_bytes()[start..start + 64];
    let found = in_database(d.home(), needle);
    assert!(
        found.is_empty(),
        "a piece of the 5 MiB payload is inside {found:?}: it should live in payloads/"
    );
    // ...and a file in payloads/ holds it.
    let added: Vec<String> = dir_names(&payloads).difference(&before).cloned().collect();
    assert_eq!(
        added.len(),
        1,
        "expected one new payload file, got {added:?}"
    );
    let stored = std::fs::metadata(payloads.join(&added[0])).unwrap();
    assert!(stored.len() > 0, "the payload file is empty");

    // The search itself works: a small payload stays in the row, and is found there.
    let marker = format!("inline-marker-{}-{id}", std::process::id());
    let small = format!("{{\"marker\":\"{marker}\"}}");
    let small_copy = d.scratch().join("small.json");
    let mut args = vec!["--payload", small.as_str()];
    args.extend(sh(COPY_PAYLOAD, &[small_copy.to_str().unwrap()]));
    let small_id = d.add(&args);
    let detail = &d.wait_jobs(&[small_id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(std::fs::read_to_string(&small_copy).unwrap(), small);
    assert!(
        !in_database(d.home(), marker.as_bytes()).is_empty(),
        "a small inline payload was not found in the database files: the search is broken"
    );
    assert_eq!(
        dir_names(&payloads).difference(&before).count(),
        1,
        "a small payload should not get a file"
    );

    // Removing the job removes its payload file.
    d.cli_ok(&["rm", &id.to_string()]);
    assert_eq!(dir_names(&payloads), before, "rm left the payload file");
}

#[test]
fn an_11_mib_payload_is_refused_and_leaves_nothing() {
    let d = Daemon::start();
    let payloads = d.home().join("payloads");
    let files_before = dir_names(&payloads);
    let jobs_before = listed_ids(&ls_json(&d, &[]));

    let payload = varied_json_string(11 * MIB, 0x2545_f491_4f6c_dd1d);
    let size = payload.len().to_string();
    let cap = DEFAULT_CAP.to_string();
    let source = d.scratch().join("big.json");
    std::fs::write(&source, &payload).unwrap();

    // Through the CLI.
    let payload_arg = format!("@{}", source.display());
    let out = d.cli(&["add", "--payload", &payload_arg, "--", "true"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&size) && stderr.contains(&cap),
        "the refusal should name the size ({size}) and the limit ({cap}): {stderr}"
    );

    // Straight to the API.
    let body = format!("{{\"cmd\":[\"true\"],\"payload\":{payload}}}");
    let (status, answer) = d.http("POST", "/api/jobs", Some(body.as_bytes()));
    assert_eq!(status, 413, "{answer}");
    let message = error_body(status, &answer, "payload_too_large");
    assert!(
        message.contains(&size) && message.contains(&cap),
        "the 413 should name the size ({size}) and the limit ({cap}): {message}"
    );

    assert_eq!(
        listed_ids(&ls_json(&d, &[])),
        jobs_before,
        "a job was stored"
    );
    assert_eq!(
        dir_names(&payloads),
        files_before,
        "a payload file was left"
    );
}

#[test]
fn a_payload_of_exactly_the_cap_is_accepted_and_one_byte_more_is_not() {
    let d = Daemon::with_config("[jobs]\nmax_payload_bytes = 1048576\n");
    let cap = 1_048_576usize;
    let mut at_cap = varied_json_string(cap - 16, 7);
    // Pad the string to exactly the cap: `"..." ` is replaced by `"...xxxx"`.
    at_cap.pop();
    while at_cap.len() + 1 < cap {
        at_cap.push('x');
    }
    at_cap.push('"');
    assert_eq!(at_cap.len(), cap);
    let source = d.scratch().join("at-cap.json");
    std::fs::write(&source, &at_cap).unwrap();
    let copy = d.scratch().join("copy.json");
    let arg = format!("@{}", source.display());
    let mut args = vec!["--payload", arg.as_str()];
    args.extend(sh(COPY_PAYLOAD, &[copy.to_str().unwrap()]));
    let id = d.add(&args);
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert!(std::fs::read(&copy).unwrap() == at_cap.as_bytes());

    let over = format!("{}x\"", &at_cap[..at_cap.len() - 1]);
    assert_eq!(over.len(), cap + 1);
    std::fs::write(&source, &over).unwrap();
    let out = d.cli(&["add", "--payload", &arg, "--", "true"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains(&(cap + 1).to_string()),
        "{}",
        describe(&out)
    );
    let body = format!("{{\"cmd\":[\"true\"],\"payload\":{over}}}");
    let (status, answer) = d.http("POST", "/api/jobs", Some(body.as_bytes()));
    assert_eq!(status, 413, "{answer}");
    error_body(status, &answer, "payload_too_large");
    assert_eq!(listed_ids(&ls_json(&d, &[])), [id]);
}
