//! The local HTTP API: axum on 127.0.0.1, every handler a thin call onto `nightshift-api`.
//!
//! Security is checked before any handler runs (DESIGN.md, "Local API security"): the Host
//! header must name the loopback address and our port (defeats DNS rebinding), every `/api`
//! request must carry the bearer token from the 0600 token file, state-changing requests with a
//! foreign Origin are refused, and bodies have size limits. Errors are JSON `{code, message}`.
//! Every connection is bounded in time and in number (`serve.rs`). An opt-in second listener
//! serves `GET /metrics` alone to other machines (`exporter.rs`).
//!
//! [`Host`] runs the engine with its server in a process (the daemon and the desktop app).

mod error;
mod exporter;
mod guard;
mod host;
mod incident_routes;
mod memory;
mod openapi;
mod pool_routes;
mod routes;
mod serve;
mod token;
mod ui;

pub use host::{Host, HostError, init_logging};
pub use openapi::description;
pub use serve::Limits;
pub use ui::CSP;

use nightshift_api::Api;
use nightshift_core::Paths;
use nightshift_core::config::ServerConfig;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub use token::{ensure_token, read_token};

/// Why the server could not start or went on. Each message includes its cause, so none is
/// also exposed as `source()`: the binary prints errors with their chain (`{:#}`), which would
/// print the cause twice.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on 127.0.0.1:{port}: {error}{}", if error.kind() == std::io::ErrorKind::AddrInUse { " (another program uses this port; set server.port in the config file, or 0 for any free port)" } else { "" })]
    Bind { port: u16, error: std::io::Error },
    #[error("cannot listen on {addr} for metrics.listen: {error}")]
    MetricsBind {
        addr: std::net::SocketAddr,
        error: std::io::Error,
    },
    #[error("cannot use the token file {path}: {error}")]
    Token {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write {path}: {error}")]
    AddressFile {
        path: PathBuf,
        error: std::io::Error,
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
    limits: Limits,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 picks a free port) with the default [`Limits`], and loads or
    /// creates the token.
    pub async fn bind(api: Api, paths: &Paths, port: u16) -> Result<Server, ServerError> {
        let config = ServerConfig {
            port,
            ..ServerConfig::default()
        };
        Server::bind_with(api, paths, &config).await
    }

    /// Binds 127.0.0.1:`config.port` with the limits of `config`, and loads or creates the
    /// token.
    pub async fn bind_with(
        api: Api,
        paths: &Paths,
        config: &ServerConfig,
    ) -> Result<Server, ServerError> {
        let port = config.port;
        let token = ensure_token(&paths.token_file).map_err(|error| ServerError::Token {
            path: paths.token_file.clone(),
            error,
        })?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|error| ServerError::Bind { port, error })?;
        let addr = listener
            .local_addr()
            .map_err(|error| ServerError::Bind { port, error })?;
        let router = routes::router(api, guard::Guard::new(addr.port(), token));
        Ok(Server {
            listener,
            addr,
            router,
            limits: Limits::from_config(config),
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
        serve::serve(self.listener, self.router, self.limits, shutdown)
            .await
            .map_err(ServerError::Serve)
    }
}

/// Writes the address file the CLI uses to find this instance (atomically: never half-written).
/// It is private (0600) whatever the umask: it says where the API listens.
pub fn write_address_file(paths: &Paths, url: &str) -> Result<(), ServerError> {
    let body = serde_json::json!({ "url": url, "pid": std::process::id() }).to_string();
    let tmp = paths.address_file.with_extension("json.tmp");
    nightshift_core::private::write(&tmp, body.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &paths.address_file))
        .map_err(|error| ServerError::AddressFile {
            path: paths.address_file.clone(),
            error,
        })
}

/// Removes the address file on a clean stop.
pub fn remove_address_file(paths: &Paths) {
    let _ = std::fs::remove_file(&paths.address_file);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary prints an error with its chain (`{:#}`): each cause must appear once.
    #[test]
    fn errors_print_their_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        // The data folder is a file: writing inside it fails with "Not a directory".
        let not_a_folder = dir.path().join("file");
        std::fs::write(&not_a_folder, "").unwrap();
        let paths = Paths::under(&not_a_folder);
        let e = write_address_file(&paths, "http://127.0.0.1:1").unwrap_err();
        let printed = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(printed.matches("(os error").count(), 1, "{printed}");
        assert!(printed.contains("daemon.json"), "{printed}");

        let e = ensure_token(&paths.token_file)
            .map_err(|error| ServerError::Token {
                path: paths.token_file.clone(),
                error,
            })
            .unwrap_err();
        let printed = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(printed.matches("(os error").count(), 1, "{printed}");

        let e = ServerError::Bind {
            port: 8091,
            error: std::io::ErrorKind::AddrInUse.into(),
        };
        let printed = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(printed.matches("address in use").count(), 1, "{printed}");
    }
}
