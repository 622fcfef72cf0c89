//! Hosting the engine and the local API inside the desktop app, exactly as `nightshift
//! daemon` does, so the CLI finds and drives it the same way.

use anyhow::Context;
use nightshift_api::Api;
use nightshift_core::{Config, Paths};
use nightshift_engine::{Engine, EngineOptions};
use nightshift_server::{Server, remove_address_file, write_address_file};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long requests in flight may keep the server up after the engine stopped.
const SERVER_DRAIN: Duration = Duration::from_secs(2);

/// The engine and its API server, running on Tauri's async runtime.
pub struct Host {
    pub api: Api,
    pub paths: Paths,
    pub config: Config,
    url: String,
    stop_server: Mutex<Option<oneshot::Sender<()>>>,
    server: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl Host {
    /// Loads the config, starts the engine (recovery first) and the API server.
    pub fn start() -> anyhow::Result<Host> {
        let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
        paths
            .ensure_dirs()
            .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
        let config = Config::load_or_init(&paths.config_file)?;
        tauri::async_runtime::block_on(async {
            let engine = Engine::start(EngineOptions {
                paths: paths.clone(),
                config: config.clone(),
                clock: nightshift_core::clock::system(),
            })
            .await?;
            let api = Api::new(engine);
            let server = Server::bind(api.clone(), &paths, config.server.port).await?;
            let url = server.url();
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let task = tauri::async_runtime::spawn(async move {
                let stopped = async {
                    let _ = stop_rx.await;
                };
                if let Err(e) = server.run(stopped).await {
                    tracing::error!(error = %e, "the local API stopped");
                }
            });
            Ok(Host {
                api,
                paths,
                config,
                url,
                stop_server: Mutex::new(Some(stop_tx)),
                server: Mutex::new(Some(task)),
            })
        })
    }

    /// Tells the CLI where to find this instance (`daemon.json`): the last step of start-up.
    pub fn announce(&self) -> anyhow::Result<()> {
        write_address_file(&self.paths, &self.url)?;
        tracing::info!(url = %self.url, data = %self.paths.data_dir.display(), "Nightshift is running");
        Ok(())
    }

    /// Graceful stop: running groups get SIGTERM, then SIGKILL; their jobs are re-queued.
    pub async fn stop(&self) {
        self.api.engine().shutdown().await;
        if let Some(stop) = self
            .stop_server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = stop.send(());
        }
        let task = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(SERVER_DRAIN, task).await;
        }
        remove_address_file(&self.paths);
    }
}
