//! A webhook receiver for the tests: a real HTTP server on loopback that keeps every request's
//! path and body and answers 200. Started on a port chosen before (so a test can first leave
//! that port closed, as a receiver that is down). [`Hanging`] is one that takes requests and
//! never answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub path: String,
    pub body: String,
}

pub struct Receiver {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A loopback port free now (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot find a free port")
}

impl Receiver {
    /// Listens on `port` until the test ends.
    pub fn start(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("cannot listen for webhooks");
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(r) = read(stream) {
                    keep.lock().unwrap().push(r);
                }
            }
        });
        Receiver { port, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read(stream: TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    Some(Received {
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A receiver that accepts every connection and never answers, holding each open until the
/// client gives up: it counts the connections made and those the client has not yet closed.
pub struct Hanging {
    pub port: u16,
    counts: Arc<Mutex<(usize, usize)>>,
}

impl Hanging {
    pub fn start(port: u16) -> Hanging {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("cannot listen for webhooks");
        let counts = Arc::new(Mutex::new((0usize, 0usize)));
        let keep = counts.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                {
                    let mut c = keep.lock().unwrap();
                    c.0 += 1;
                    c.1 += 1;
                }
                let keep = keep.clone();
                std::thread::spawn(move || {
                    // Reads (and drops) until the client closes its end.
                    let mut sink = [0u8; 4096];
                    while stream.read(&mut sink).is_ok_and(|n| n > 0) {}
                    keep.lock().unwrap().1 -= 1;
                });
            }
        });
        Hanging { port, counts }
    }

    /// Connections made, and of them those still open.
    pub fn connections(&self) -> (usize, usize) {
        *self.counts.lock().unwrap()
    }
}
