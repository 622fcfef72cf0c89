//! Hosting the engine and the local API inside the desktop app, exactly as `nightshift
//! daemon` does (both through `nightshift_server::Host`), so the CLI finds and drives it the
//! same way.

use anyhow::Context;
use nightshift_core::{Config, Paths};
pub use nightshift_server::Host;

/// Loads the config and starts the engine (recovery first) and the API server on Tauri's
/// async runtime.
pub fn start() -> anyhow::Result<Host> {
    let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
    paths
        .ensure_dirs()
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    let config = Config::load_or_init(&paths.config_file)?;
    Ok(tauri::async_runtime::block_on(Host::start(paths, config))?)
}
