//! HTTP on a raw socket, for requests no well-behaved client sends: foreign Host headers,
//! request targets with `..` left as they are, bodies past a limit, requests left half sent,
//! connections kept open to see when the server closes them.

use crate::text;
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An HTTP response read off a raw socket.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        text(&self.body)
    }

    /// The body as JSON; fails the test if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {:?}",
                self.status,
                self.text()
            )
        })
    }

    fn parse(raw: &[u8]) -> Option<RawResponse> {
        let end = find(raw, b"\r\n\r\n")?;
        let head = text(&raw[..end]);
        let mut head_lines = head.split("\r\n");
        let status = head_lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = head_lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut response = RawResponse {
            status,
            headers,
            body: Vec::new(),
        };
        let rest = &raw[end + 4..];
        if let Some(len) = response
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            response.body = rest.get(..len)?.to_vec();
        } else if response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            response.body = dechunk(rest)?;
        } else {
            response.body = rest.to_vec();
        }
        Some(response)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// Decodes a complete chunked body; `None` while it is incomplete.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")?;
        let size_text = text(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// A hand-written HTTP/1.1 request to 127.0.0.1:`port` on a raw socket: the method, the request target exactly
/// as given (no normalisation of `..` or `%2F`), exactly these headers (add Host and
/// Authorization yourself) plus Content-Length and `Connection: close`. The body is written
/// on another thread while the answer is read, so a server that answers early (413) and
/// stops reading is seen as it is.
pub fn raw_request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("cannot connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("cannot set a read timeout");
    let mut request = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    let mut writer = stream.try_clone().expect("cannot clone the socket");
    let writing = std::thread::spawn(move || {
        // The server may answer and close before reading everything: not an error here.
        let _ = writer.write_all(&bytes);
    });
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let response = loop {
        match stream.read(&mut buf) {
            Ok(0) => break RawResponse::parse(&raw),
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if let Some(r) = RawResponse::parse(&raw)
                    && r.header("content-length").is_some()
                {
                    break Some(r);
                }
            }
            // A reset after the answer arrived (the server closed with our body unread).
            Err(_) if !raw.is_empty() => break RawResponse::parse(&raw),
            Err(e) => panic!("{method} {target}: no answer: {e}"),
        }
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = writing.join();
    response.unwrap_or_else(|| {
        panic!(
            "{method} {target}: incomplete HTTP answer: {:?}",
            text(&raw)
        )
    })
}

/// Writes a request on a kept-alive connection: the method, the target, exactly these headers
/// (add Host and Authorization yourself) and Content-Length. No `Connection: close`.
pub fn write_request(
    stream: &mut TcpStream,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut request = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)
}

/// Reads one whole answer (its end known from Content-Length or the chunked encoding) off a
/// connection, waiting at most `timeout` for each read. `None` if the connection ends, is
/// reset or stays silent before the answer is whole. One answer at a time: nothing may follow
/// it on the connection before it is read.
pub fn read_answer(stream: &mut TcpStream, timeout: Duration) -> Option<RawResponse> {
    stream.set_read_timeout(Some(timeout)).ok()?;
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(r) = RawResponse::parse(&raw) {
            let whole = r.header("content-length").is_some()
                || r.header("transfer-encoding")
                    .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
            if whole {
                return Some(r);
            }
        }
    }
}

/// Whether the other end has closed or reset this connection; never blocks. Bytes waiting to be
/// read do not count as closed.
pub fn is_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let closed = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    closed
}
