//! What the api's test files share.

use nightshift_api::Api;
use nightshift_core::{Clock, Config, Paths, QueueConfig};
use nightshift_engine::{Engine, EngineOptions};
use std::sync::Arc;

/// The api over an engine in `dir` whose queue "held" never starts a job (concurrency 0), on
/// `clock`.
pub async fn held_api(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Api {
    let mut config = Config::default();
    config.queues.insert(
        "held".into(),
        QueueConfig {
            concurrency: Some(0),
            ..Default::default()
        },
    );
    let engine = Engine::start(EngineOptions {
        paths: Paths::under(dir),
        config,
        clock,
    })
    .await
    .unwrap();
    Api::new(engine)
}
