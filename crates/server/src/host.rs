//! Hosting Nightshift in a process: the engine (recovery first) and the local API server
//! beside it, announced to the CLI once both run, and stopped in order. `nightshift daemon` and
//! the desktop app both host it this way, so the CLI finds and drives either the same way.

use crate::{Server, ServerError, remove_address_file, write_address_file};
use nightshift_api::Api;
use nightshift_core::{Config, Paths};
use nightshift_engine::{Engine, EngineError, EngineOptions};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long requests still in flight (a long `wait`, a followed log) may keep the server up
/// after the engine has stopped.
const SERVER_DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// The engine and its API server, running on the current tokio runtime.
pub struct Host {
    pub api: Api,
    pub paths: Paths,
    pub config: Config,
    url: String,
    stop_server: Mutex<Option<watch::Sender<bool>>>,
    /// The API server, and the metrics listener when `metrics.listen` asks for one.
    servers: Mutex<Vec<JoinHandle<()>>>,
    /// Webhook delivery of incident alerts.
    alerts: nightshift_alerts::Alerts,
    /// Gives freed memory back after bursts (`memory.rs`).
    memory: JoinHandle<()>,
}

impl Host {
    /// Starts the engine (its recovery runs before any dispatch) and the API server on
    /// `config.server.port`. Nothing is announced yet: see [`Host::announce`].
    pub async fn start(paths: Paths, config: Config) -> Result<Host, HostError> {
        let engine = Engine::start(EngineOptions {
            paths: paths.clone(),
            config: config.clone(),
            clock: nightshift_core::clock::system(),
        })
        .await?;
        let api = Api::new(engine);
        let bound = async {
            let server = Server::bind_with(api.clone(), &paths, &config.server).await?;
            let exporter = crate::exporter::bind(api.clone(), &paths, &config).await?;
            Ok::<_, ServerError>((server, exporter))
        };
        let (server, exporter) = match bound.await {
            Ok(servers) => servers,
            Err(e) => {
                // The engine is already dispatching: stop it in order (its running jobs go
                // back to their queues) rather than leave it to the process's end.
                api.engine().shutdown().await;
                return Err(e.into());
            }
        };
        let url = server.url();
        let (stop_tx, stop_rx) = watch::channel(false);
        let servers = [
            Some((server, "the local API")),
            exporter.map(|e| (e, "the metrics listener")),
        ]
        .into_iter()
        .flatten()
        .map(|(server, what)| {
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                if let Err(e) = server.run(stopped).await {
                    tracing::error!(error = %e, "{what} stopped");
                }
            })
        })
        .collect();
        let alerts = nightshift_alerts::start(api.engine().clone(), &config.alerts);
        let memory = crate::memory::spawn(api.engine().clone());
        Ok(Host {
            api,
            paths,
            config,
            url,
            stop_server: Mutex::new(Some(stop_tx)),
            servers: Mutex::new(servers),
            alerts,
            memory,
        })
    }

    /// Where the API listens, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Resolves once a task of the engine has failed (a bug), with what failed; never while
    /// the engine is sound. The host's owner then stops and exits non-zero, so a supervisor of
    /// the process can start it afresh (recovery settles what was running).
    pub async fn engine_failed(&self) -> String {
        let mut failure = self.api.engine().failure();
        loop {
            if let Some(what) = failure.borrow_and_update().clone() {
                return what;
            }
            if failure.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Tells the CLI where to find this instance (`daemon.json`): the last step of start-up.
    pub fn announce(&self) -> Result<(), ServerError> {
        write_address_file(&self.paths, &self.url)?;
        tracing::info!(url = %self.url, data = %self.paths.data_dir.display(), "Nightshift is running");
        Ok(())
    }

    /// Graceful stop: no new dispatch, running groups get SIGTERM, then SIGKILL after the
    /// grace, and their jobs go back to their queues; then the server finishes what is in
    /// flight (for at most [`SERVER_DRAIN`]) and the address file goes.
    pub async fn stop(&self) {
        // Deliveries still pending are sent at the next start.
        self.alerts.stop();
        self.memory.abort();
        self.api.engine().shutdown().await;
        if let Some(stop) = self
            .stop_server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = stop.send(true);
        }
        let tasks = std::mem::take(&mut *self.servers.lock().unwrap_or_else(|p| p.into_inner()));
        let all = futures_util::future::join_all(tasks);
        if tokio::time::timeout(SERVER_DRAIN, all).await.is_err() {
            tracing::info!("closed requests still in flight");
        }
        remove_address_file(&self.paths);
    }
}

/// Logging for a process that hosts Nightshift: to stderr, filtered by `NIGHTSHIFT_LOG`
/// (`RUST_LOG` syntax; `info` when unset or invalid). A second call does nothing.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NIGHTSHIFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
