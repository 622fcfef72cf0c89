//! The local HTTP API: axum on 127.0.0.1, every handler a thin call onto `nightshift-api`.
//!
//! Security is checked before any handler runs (DESIGN.md, "Local API security"): the Host
//! header must name the loopback address and our port (defeats DNS rebinding), every `/api`
//! request must carry the bearer token from the 0600 token file, state-changing requests with a
//! foreign Origin are refused, and bodies have size limits. Errors are JSON `{code, message}`.
//!
//! [`Host`] runs the engine with its server in a process (the daemon and the desktop app).

mod error;
mod guard;
mod host;
mod routes;
mod token;
mod ui;

pub use host::{Host, HostError, init_logging};
pub use ui::CSP;

use nightshift_api::Api;
use nightshift_core::Paths;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub use token::{ensure_token, read_token};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}{}", if source.kind() == std::io::ErrorKind::AddrInUse { " (another program uses this port; set server.port in the config file, or 0 for any free port)" } else { "" })]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot use the token file {path}: {source}")]
    Token {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    AddressFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// A bound, not yet serving, API server.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    router: axum::Router,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 picks a free port) and loads or creates the token.
    pub async fn bind(api: Api, paths: &Paths, port: u16) -> Result<Server, ServerError> {
        let token = ensure_token(&paths.token_file).map_err(|source| ServerError::Token {
            path: paths.token_file.clone(),
            source,
        })?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| ServerError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { port, source })?;
        let router = routes::router(api, guard::Guard::new(addr.port(), token));
        Ok(Server {
            listener,
            addr,
            router,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve)
    }
}

/// Writes the address file the CLI uses to find this instance (atomically: never half-written).
pub fn write_address_file(paths: &Paths, url: &str) -> Result<(), ServerError> {
    let body = serde_json::json!({ "url": url, "pid": std::process::id() }).to_string();
    let tmp = paths.address_file.with_extension("json.tmp");
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, &paths.address_file))
        .map_err(|source| ServerError::AddressFile {
            path: paths.address_file.clone(),
            source,
        })
}

/// Removes the address file on a clean stop.
pub fn remove_address_file(paths: &Paths) {
    let _ = std::fs::remove_file(&paths.address_file);
}
