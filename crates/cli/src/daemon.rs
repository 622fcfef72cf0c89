//! `nightshift daemon`: the engine and the local API, headless, until SIGINT or SIGTERM.

use crate::args::DaemonArgs;
use crate::out::outln;
use anyhow::Context;
use nightshift_api::Api;
use nightshift_core::{Config, Paths};
use nightshift_engine::{Engine, EngineOptions};
use nightshift_server::{Server, remove_address_file, write_address_file};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// How long requests still in flight (a long `wait`, a followed log) may keep the server up
/// after the engine has stopped.
const SERVER_DRAIN: Duration = Duration::from_secs(2);

pub fn run(args: DaemonArgs) -> anyhow::Result<()> {
    init_tracing();
    let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
    paths
        .ensure_dirs()
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    let mut config = Config::load_or_init(&paths.config_file)?;
    if let Some(port) = args.port {
        config.server.port = port;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nightshift")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(paths, config))
}

async fn serve(paths: Paths, config: Config) -> anyhow::Result<()> {
    let port = config.server.port;
    let engine = Engine::start(EngineOptions {
        paths: paths.clone(),
        config,
        clock: nightshift_core::clock::system(),
    })
    .await?;
    let server = Server::bind(Api::new(engine.clone()), &paths, port).await?;
    let url = server.url();
    write_address_file(&paths, &url)?;
    // Stdout only informs here: a closed one (`nightshift daemon | head -1`) must not stop the
    // daemon, so write errors are let go.
    let _ = outln!("Nightshift is running at {url}");
    let _ = outln!("data folder: {}", paths.data_dir.display());
    let recovered = engine.recovery();
    if !recovered.requeued.is_empty() || !recovered.failed.is_empty() {
        let _ = outln!(
            "recovered after an unclean stop: {} job(s) queued again, {} failed",
            recovered.requeued.len(),
            recovered.failed.len()
        );
    }

    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server_task = tokio::spawn(server.run(async {
        let _ = server_stopped.await;
    }));
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
    engine.shutdown().await;
    let _ = stop_server.send(());
    if tokio::time::timeout(SERVER_DRAIN, server_task)
        .await
        .is_err()
    {
        tracing::info!("closed requests still in flight");
    }
    remove_address_file(&paths);
    let _ = outln!("Nightshift stopped");
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NIGHTSHIFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
