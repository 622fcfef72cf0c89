//! `nightshift daemon`: the engine and the local API, headless, until SIGINT or SIGTERM.

use crate::args::DaemonArgs;
use crate::out::outln;
use anyhow::Context;
use nightshift_core::{Config, Paths};
use nightshift_server::{Host, init_logging};
use tokio::signal::unix::{SignalKind, signal};

pub fn run(args: DaemonArgs) -> anyhow::Result<()> {
    init_logging();
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
    let served = runtime.block_on(serve(paths, config));
    // The engine has stopped and its state is stored. What may still run on a blocking thread
    // is a webhook attempt to a receiver that does not answer (up to its 10 s timeout): not
    // worth holding the stop for, since an attempt cut short is made again at the next start.
    runtime.shutdown_timeout(STRAGGLERS);
    served
}

/// How long the stop waits for blocking work still running once the engine has stopped.
const STRAGGLERS: std::time::Duration = std::time::Duration::from_millis(500);

async fn serve(paths: Paths, config: Config) -> anyhow::Result<()> {
    let host = Host::start(paths, config).await?;
    host.announce()?;
    // Stdout only informs here: a closed one (`nightshift daemon | head -1`) must not stop the
    // daemon, so write errors are let go.
    let _ = outln!("Nightshift is running at {}", host.url());
    let _ = outln!("data folder: {}", host.paths.data_dir.display());
    let recovered = host.api.engine().recovery();
    if !recovered.requeued.is_empty() || !recovered.failed.is_empty() {
        let _ = outln!(
            "recovered after an unclean stop: {} job(s) queued again, {} failed",
            recovered.requeued.len(),
            recovered.failed.len()
        );
    }

    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let failed = tokio::select! {
        _ = term.recv() => { tracing::info!("SIGTERM: stopping"); None }
        _ = int.recv() => { tracing::info!("SIGINT: stopping"); None }
        what = host.engine_failed() => Some(what),
    };
    host.stop().await;
    if let Some(what) = failed {
        // Not limping on with part of the engine gone: stop, and say so with a non-zero exit
        // for whatever supervises the daemon (systemd's Restart=on-failure, say).
        anyhow::bail!("{what}; stopped so that it can be started afresh");
    }
    let _ = outln!("Nightshift stopped");
    Ok(())
}
