//! The accept loop: HTTP/1 connections served by hyper with every connection bounded in time
//! and in number, so a client that stalls can neither keep a socket forever nor delay others.
//!
//! `axum::serve` bounds none of this, and hyper's own `header_read_timeout` starts as soon as a
//! connection waits for a request, so it would also cut kept-alive connections between
//! requests at the header timeout. Each connection is watched here instead ([`Activity`]):
//!
//! - between requests (from the accept, or the end of the last answer): `idle_timeout`;
//! - from a request's first byte to the end of its headers: `header_timeout`;
//! - while a request is being answered: no limit on the connection, since a long `wait`, a
//!   followed log and the event stream are long by design. Its body must arrive within
//!   `body_timeout` of the handler starting to read it ([`TimedBody`]: 408), and each write of
//!   the answer may wait at most `body_timeout` for the client to read ([`Watched`]).
//!
//! Past `max_connections` at once, a new connection is answered 503 before its request is read
//! and closed, rather than left in the kernel's backlog where its client would hang unanswered.
//! A stop (the `shutdown` future) closes the listener, closes idle connections and lets the
//! requests in flight finish; `Host` bounds how long it waits for them.

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use nightshift_core::config::ServerConfig;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The bounds on each connection (`[server]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &ServerConfig) -> Limits {
        Limits {
            header_timeout: config.header_timeout,
            body_timeout: config.body_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: usize::try_from(config.max_connections)
                .unwrap_or(usize::MAX)
                .max(1),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from_config(&ServerConfig::default())
    }
}

/// A request body that did not arrive in time; answered 408 (`routes::read_body`).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub(crate) struct BodyTimeout(pub Duration);

/// Accepts and serves connections until `shutdown` completes, then lets the requests in flight
/// finish. Fails only if the listener itself stops working.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Header time is watched per connection (see the module's comment), not by hyper.
    http.header_read_timeout(None);
    let refusal = too_many_connections(limits.max_connections);
    tokio::pin!(shutdown);
    let result = loop {
        let stream = tokio::select! {
            () = &mut shutdown => break Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => match accept_error(e).await {
                    Ok(()) => continue,
                    Err(e) => break Err(e),
                },
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(
                limit = limits.max_connections,
                "refused a connection: too many open"
            );
            // The refused client has had no time to send anything, so this small answer fits
            // in the socket's empty buffer at once: no waiting on a client we refuse.
            let _ = stream.try_write(&refusal);
            continue;
        };
        // Answers go out in one write each, and small events must not wait on Nagle's
        // algorithm for the acknowledgement of the one before.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched::new(stream, activity.clone(), limits.body_timeout));
        let service = {
            let activity = activity.clone();
            let router = router.clone();
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                // Counted from here (the headers are in) until the answer's body is dropped.
                let in_flight = InFlight::start(&activity);
                let router = router.clone();
                let request: Request =
                    request.map(|body| Body::new(TimedBody::new(body, limits.body_timeout)));
                async move {
                    let response = match router.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    Ok::<_, Infallible>(response.map(|body| Tracked {
                        body,
                        _in_flight: in_flight,
                    }))
                }
            })
        };
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                why = activity.expired(limits) => {
                    tracing::debug!("closed a connection: {why}");
                }
            }
            drop(permit);
        });
    };
    drop(listener);
    graceful.shutdown().await;
    result
}

/// What to do after a failed accept: go on after errors of that one connection, wait a moment
/// when out of file descriptors (accepting again at once would spin), stop on anything else.
async fn accept_error(e: io::Error) -> io::Result<()> {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    ) {
        return Ok(());
    }
    let out_of_descriptors = matches!(
        e.raw_os_error(),
        Some(errno::EMFILE | errno::ENFILE | errno::ENOBUFS | errno::ENOMEM)
    );
    if out_of_descriptors {
        tracing::warn!(error = %e, "cannot accept a connection; trying again in a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
        return Ok(());
    }
    tracing::error!(error = %e, "the API's listener failed");
    Err(e)
}

/// The errno values of running out of descriptors or memory (the same on Linux and macOS).
mod errno {
    pub const ENOMEM: i32 = 12;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    #[cfg(target_os = "linux")]
    pub const ENOBUFS: i32 = 105;
    #[cfg(not(target_os = "linux"))]
    pub const ENOBUFS: i32 = 55;
}

/// The whole 503 answer to a connection past the limit.
fn too_many_connections(limit: usize) -> Vec<u8> {
    let body = serde_json::to_string(&nightshift_api::ApiError::new(
        nightshift_api::ErrorKind::Unavailable,
        format!("too many connections open at once (server.max_connections = {limit}); try again"),
    ))
    .unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a connection is doing, as its reads and its requests show it.
struct Activity {
    state: Mutex<State>,
    /// Wakes the watcher when its deadline may have changed.
    changed: Notify,
}

struct State {
    /// Requests whose answer has not been sent in full.
    in_flight: usize,
    /// Since when the connection waits for a request (its accept, or the end of an answer).
    idle_since: Instant,
    /// When the first byte of the next request arrived, if one has.
    head_started: Option<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                head_started: None,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is plain numbers, valid whatever a panicking holder left.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived: while no request is being answered, they begin the next one.
    fn read(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// When the connection is to be closed, and why; `None` while a request is answered.
    fn deadline(&self, limits: Limits) -> Option<(Instant, &'static str)> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_started {
            Some(at) => (
                at + limits.header_timeout,
                "its request's headers did not arrive within server.header_timeout",
            ),
            None => (
                state.idle_since + limits.idle_timeout,
                "idle for server.idle_timeout",
            ),
        })
    }

    /// Completes when the connection has passed its deadline.
    async fn expired(&self, limits: Limits) -> &'static str {
        loop {
            // A change between reading the deadline and waiting leaves a permit in `changed`,
            // so it is never missed.
            match self.deadline(limits) {
                None => self.changed.notified().await,
                Some((at, why)) => {
                    if Instant::now() >= at {
                        return why;
                    }
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }
}

/// One request being answered, from its headers to the end of its answer.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> InFlight {
        let mut state = activity.state();
        state.in_flight += 1;
        state.head_started = None;
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            state.head_started = None;
            drop(state);
            self.0.changed.notify_one();
        }
    }
}

/// An answer's body that holds its request's [`InFlight`] until hyper is done with it: hyper
/// drops a body once it has written all of it, or when the connection goes.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that must arrive in full within `limit` of the first read of it.
struct TimedBody {
    body: Incoming,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(body: Incoming, limit: Duration) -> TimedBody {
        TimedBody {
            body,
            limit,
            deadline: None,
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout(limit).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The connection's socket, telling [`Activity`] of the bytes it reads, and failing a write
/// that waits longer than `write_limit` for the client to read (a client that asks and never
/// reads the answer would otherwise hold the connection for good).
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    write_limit: Duration,
    write_stalled: Option<Pin<Box<Sleep>>>,
}

impl Watched {
    fn new(stream: TcpStream, activity: Arc<Activity>, write_limit: Duration) -> Watched {
        Watched {
            stream,
            activity,
            write_limit,
            write_stalled: None,
        }
    }

    /// A write is pending: fails it once it has been pending for `write_limit`.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let limit = self.write_limit;
        let stalled = self
            .write_stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client took nothing of its answer for {limit:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn written<T>(
        &mut self,
        poll: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.stalled(cx),
            ready => {
                self.write_stalled = None;
                ready
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.written(poll, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.written(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.written(poll, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_connection() {
        let activity = Arc::new(Activity::new());
        let start = Instant::now();
        // Waiting for a first request: the idle deadline.
        assert_eq!(
            activity.deadline(limits()).unwrap().0,
            start + Duration::from_secs(60)
        );
        // A first byte: the header deadline, from that byte.
        tokio::time::advance(Duration::from_secs(5)).await;
        activity.read();
        assert_eq!(
            activity.deadline(limits()).unwrap().0,
            start + Duration::from_secs(15)
        );
        // More bytes do not move it.
        tokio::time::advance(Duration::from_secs(1)).await;
        activity.read();
        assert_eq!(
            activity.deadline(limits()).unwrap().0,
            start + Duration::from_secs(15)
        );
        // A request being answered has none, however long it runs or reads.
        let request = InFlight::start(&activity);
        tokio::time::advance(Duration::from_secs(3600)).await;
        activity.read();
        assert_eq!(activity.deadline(limits()), None);
        // Its answer sent, the idle deadline counts again from then.
        drop(request);
        assert_eq!(
            activity.deadline(limits()).unwrap().0,
            start + Duration::from_secs(3606 + 60)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_waits_out_a_request_in_flight() {
        let activity = Arc::new(Activity::new());
        let request = InFlight::start(&activity);
        let watcher = tokio::spawn({
            let activity = activity.clone();
            async move {
                let why = activity.expired(limits()).await;
                (Instant::now(), why)
            }
        });
        tokio::task::yield_now().await;
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(!watcher.is_finished(), "closed with a request in flight");
        let ended = Instant::now();
        drop(request);
        let (at, why) = watcher.await.unwrap();
        assert_eq!(at, ended + Duration::from_secs(60));
        assert!(why.contains("idle"), "{why}");
    }
}
