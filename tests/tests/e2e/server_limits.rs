//! The bounds on each connection to the API (`[server]` in the config): a client that stalls
//! in its headers, its body or between requests is let go, clients past the connection limit
//! are refused while the others go on, and the event stream outlives the idle timeout.

use crate::error_body;
use nightshift_e2e::{
    Daemon, JOB_TIMEOUT, contains_bytes, is_closed, read_answer, wait_for, write_request,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a single read may wait for an answer the server owes.
const ANSWER: Duration = Duration::from_secs(30);

fn connect(d: &Daemon) -> TcpStream {
    TcpStream::connect(("127.0.0.1", d.port())).expect("cannot connect to the daemon")
}

/// `GET /api/health` on a kept-alive connection; its status, or `None` if the connection was
/// closed or refused instead.
fn health(d: &Daemon, stream: &mut TcpStream) -> Option<u16> {
    let (host, bearer) = (d.host(), d.bearer());
    let headers = [("Host", host.as_str()), ("Authorization", bearer.as_str())];
    write_request(stream, "GET", "/api/health", &headers, b"").ok()?;
    read_answer(stream, ANSWER).map(|r| r.status)
}

#[test]
fn a_client_that_stalls_in_its_headers_is_cut_off_while_others_are_served() {
    let d = Daemon::with_config("[server]\nheader_timeout = \"1s\"\nidle_timeout = \"10m\"\n");
    // Half a request line, then nothing.
    let mut slow = connect(&d);
    slow.write_all(b"GET /api/hea").unwrap();
    // Others are served meanwhile, on new connections and on kept-alive ones.
    let mut other = connect(&d);
    for _ in 0..3 {
        assert_eq!(health(&d, &mut other), Some(200));
    }
    let (status, body) = d.http("GET", "/api/jobs", None);
    assert_eq!(status, 200, "{body}");
    wait_for(
        JOB_TIMEOUT,
        "the server to close a connection whose headers never came",
        || is_closed(&slow),
    );
    // The kept-alive connection is not idle long enough to be closed (idle_timeout is 10
    // minutes), and still works.
    assert_eq!(health(&d, &mut other), Some(200));
}

#[test]
fn a_body_that_never_comes_is_408_and_creates_nothing() {
    let d = Daemon::with_config("[server]\nbody_timeout = \"1s\"\n");
    let (host, bearer) = (d.host(), d.bearer());
    let mut stream = connect(&d);
    // Content-Length says 100; nothing follows the headers.
    stream
        .write_all(
            format!(
                "POST /api/jobs HTTP/1.1\r\nHost: {host}\r\nAuthorization: {bearer}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let r = read_answer(&mut stream, ANSWER).expect("no answer to a request whose body stalled");
    assert_eq!(r.status, 408, "{}", r.text());
    let message = error_body(r.status, &r.text(), "bad_request");
    assert!(message.contains("body_timeout"), "{message}");
    assert_eq!(r.header("connection"), Some("close"), "{:?}", r.headers);
    wait_for(JOB_TIMEOUT, "the server to close the connection", || {
        is_closed(&stream)
    });
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(page["jobs"], serde_json::json!([]), "{page}");
}

#[test]
fn connections_past_the_limit_are_refused_while_the_others_work() {
    let d = Daemon::with_config("[server]\nmax_connections = 2\n");
    let mut first = connect(&d);
    let mut second = connect(&d);
    // Served: both are counted now.
    assert_eq!(health(&d, &mut first), Some(200));
    assert_eq!(health(&d, &mut second), Some(200));

    // A third is answered 503 before it sends anything, and closed.
    let mut third = connect(&d);
    third.set_read_timeout(Some(ANSWER)).unwrap();
    let mut refused = Vec::new();
    third
        .read_to_end(&mut refused)
        .expect("the refused connection was reset instead of answered");
    let text = String::from_utf8_lossy(&refused).into_owned();
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    error_body(503, body, "unavailable");

    // The two it holds go on working.
    assert_eq!(health(&d, &mut first), Some(200));
    assert_eq!(health(&d, &mut second), Some(200));

    // One closed, its place is free again.
    drop(first);
    wait_for(JOB_TIMEOUT, "a new connection to be served", || {
        health(&d, &mut connect(&d)) == Some(200)
    });
    assert_eq!(health(&d, &mut second), Some(200));
}

#[test]
fn idle_connections_are_closed_but_the_event_stream_stays_open() {
    let d = Daemon::with_config("[server]\nidle_timeout = \"1s\"\n");
    let (host, bearer) = (d.host(), d.bearer());
    let mut events = connect(&d);
    write_request(
        &mut events,
        "GET",
        "/api/events",
        &[("Host", &host), ("Authorization", &bearer)],
        b"",
    )
    .unwrap();
    events.set_read_timeout(Some(ANSWER)).unwrap();
    let mut seen = Vec::new();
    // The stream opens with a `changed` event.
    read_events(&mut events, &mut seen, 1);
    assert!(seen.starts_with(b"HTTP/1.1 200 "), "{:?}", text(&seen));
    assert!(contains_bytes(&seen, b"text/event-stream"));

    // A connection opened after the stream, served once and then left idle, is closed: the
    // idle timeout has passed for the stream too.
    let mut idle = connect(&d);
    assert_eq!(health(&d, &mut idle), Some(200));
    wait_for(
        JOB_TIMEOUT,
        "the server to close an idle connection",
        || is_closed(&idle),
    );

    // The stream is still open and still says when something changes.
    d.add(&["--", "true"]);
    read_events(&mut events, &mut seen, 2);
}

/// Reads the event stream into `seen` until it holds `n` events.
fn read_events(stream: &mut TcpStream, seen: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 4096];
    while count(seen, b"event: changed") < n {
        let got = stream.read(&mut buf).expect("the event stream failed");
        assert!(got > 0, "the event stream was closed: {:?}", text(seen));
        seen.extend_from_slice(&buf[..got]);
    }
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| w == &needle)
        .count()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
