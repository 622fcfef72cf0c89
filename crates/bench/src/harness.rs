//! What several measurements share: an engine in a fresh data folder, waiting on its events
//! with a deadline, the local HTTP server in front of it, and running a blocking HTTP client on
//! its own OS thread.

use anyhow::{Context, bail, ensure};
use nightshift_api::Api;
use nightshift_core::{Config, JobId, JobSpec, JobState, Paths, QueueConfig};
use nightshift_engine::{Engine, EngineHandle, EngineOptions, Event};
use nightshift_power::PowerSource;
use nightshift_server::{Server, ServerError};
use nightshift_store::NewJob;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// An engine running on a fresh, temporary data folder (removed when this drops).
pub struct BenchEngine {
    pub engine: EngineHandle,
    _dir: TempDir,
}

impl BenchEngine {
    /// Starts an engine whose config lists `queues` with their concurrency.
    pub async fn start(queues: &[(&str, u32)]) -> anyhow::Result<BenchEngine> {
        let mut config = Config::default();
        for (name, concurrency) in queues {
            config.queues.insert(
                (*name).into(),
                QueueConfig {
                    concurrency: Some(*concurrency),
                    ..Default::default()
                },
            );
        }
        BenchEngine::start_with(config, None).await
    }

    /// Starts an engine with this config, reading `power` (`None`: the source the config
    /// names).
    pub async fn start_with(
        config: Config,
        power: Option<Arc<dyn PowerSource>>,
    ) -> anyhow::Result<BenchEngine> {
        let dir = tempfile::Builder::new()
            .prefix("nightshift-bench-")
            .tempdir()
            .context("cannot create a temporary data folder")?;
        let engine = Engine::start_with_power(
            EngineOptions {
                paths: Paths::under(dir.path()),
                config,
                clock: nightshift_core::clock::system(),
            },
            power,
        )
        .await
        .context("cannot start the engine")?;
        Ok(BenchEngine { engine, _dir: dir })
    }

    pub async fn stop(self) {
        self.engine.shutdown().await;
    }
}

/// `n` jobs that run `/bin/true` in `queue`.
pub fn true_jobs(n: usize, queue: &str) -> Vec<NewJob> {
    jobs(n, JobSpec::command(&["/bin/true"], queue))
}

/// `n` jobs of `spec`, to run at once.
pub fn jobs(n: usize, spec: JobSpec) -> Vec<NewJob> {
    (0..n)
        .map(|_| NewJob {
            spec: spec.clone(),
            run_at: None,
            payload: None,
            after: Vec::new(),
        })
        .collect()
}

/// Enqueues one job, and returns how long it took from `enqueue` returning to its `Started`
/// event, once the job has also succeeded (so the next round starts on a quiet engine).
pub async fn time_to_start(
    engine: &EngineHandle,
    events: &mut Receiver<Event>,
    job: Vec<NewJob>,
    within: Duration,
) -> anyhow::Result<Duration> {
    let id = engine.enqueue(job).await?[0];
    let t0 = tokio::time::Instant::now();
    let t1 = wait_for(
        events,
        within,
        "Started event",
        |e| matches!(e, Event::Started { id: started, .. } if *started == id),
    )
    .await?;
    wait_all_succeeded(engine, events, &[id], within).await?;
    Ok(t1 - t0)
}

/// Waits for the first event `matches` accepts; returns when it was received.
pub async fn wait_for(
    events: &mut Receiver<Event>,
    within: Duration,
    what: &str,
    mut matches: impl FnMut(&Event) -> bool,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => bail!("no {what} within {within:?}"),
            Ok(Ok(event)) if matches(&event) => return Ok(Instant::now()),
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(n))) => bail!("missed {n} events while waiting for {what}"),
            Ok(Err(RecvError::Closed)) => bail!("the event bus closed while waiting for {what}"),
        }
    }
}

/// Waits until every job in `ids` has ended for good (each must have succeeded); returns when
/// the last one was seen. If this listener falls behind the event bus, the store says which of
/// the jobs still waited for have already ended.
pub async fn wait_all_succeeded(
    engine: &EngineHandle,
    events: &mut Receiver<Event>,
    ids: &[JobId],
    within: Duration,
) -> anyhow::Result<Instant> {
    let mut pending: HashSet<JobId> = ids.iter().copied().collect();
    let deadline = Instant::now() + within;
    fn ended(id: JobId, state: JobState, pending: &mut HashSet<JobId>) -> anyhow::Result<()> {
        if state.is_final() && pending.remove(&id) {
            ensure!(
                state == JobState::Succeeded,
                "job {id} of /bin/true ended {state:?}"
            );
        }
        Ok(())
    }
    while !pending.is_empty() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => bail!(
                "{} of {} jobs had not ended after {within:?}",
                pending.len(),
                ids.len()
            ),
            Ok(Ok(Event::Ended { id, state, .. })) => ended(id, state, &mut pending)?,
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(_))) => {
                let waiting: Vec<JobId> = pending.iter().copied().collect();
                for (id, state) in engine.store().states(waiting).await? {
                    ended(id, state, &mut pending)?;
                }
            }
            Ok(Err(RecvError::Closed)) => bail!("the event bus closed"),
        }
    }
    Ok(Instant::now())
}

/// The local HTTP API served from this process, and what a client needs to call it.
pub struct HttpServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`, for the Host header the server checks.
    pub host: String,
    /// `Bearer <token>`
    pub authorization: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl HttpServer {
    /// Binds a free port on 127.0.0.1 and serves `engine` on it.
    pub async fn start(engine: &EngineHandle) -> anyhow::Result<HttpServer> {
        let paths = engine.paths().clone();
        let server = Server::bind(Api::new(engine.clone()), &paths, 0)
            .await
            .context("cannot start the HTTP server")?;
        let addr = server.addr();
        let token = nightshift_server::read_token(&paths.token_file)
            .with_context(|| format!("cannot read {}", paths.token_file.display()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Ok(HttpServer {
            url: format!("http://{addr}"),
            host: addr.to_string(),
            authorization: format!("Bearer {token}"),
            stop,
            task,
        })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .context("the HTTP server task failed")?
            .context("the HTTP server stopped with an error")
    }
}

/// Runs `work` `n` times in all, shared evenly over `threads` OS threads (the first
/// `n % threads` take one more); the first error, if any. `what` names the threads in a panic.
pub fn shared_out(
    n: usize,
    threads: usize,
    what: &str,
    work: impl Fn() -> anyhow::Result<()> + Sync,
) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let share = n / threads + usize::from(i < n % threads);
                let work = &work;
                scope.spawn(move || (0..share).try_for_each(|_| work()))
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a {what} thread panicked"))??;
        }
        Ok(())
    })
}

/// Runs blocking work (an HTTP client) on its own OS thread, so the runtime's workers stay free
/// to serve it.
pub async fn on_thread<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let (done, result) = oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .with_context(|| format!("cannot start the {name} thread"))?;
    result
        .await
        .with_context(|| format!("the {name} thread panicked"))?
}

/// A blocking HTTP client with keep-alive, set up to pass the server's checks. Use it from
/// `on_thread`, never from the runtime.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    url: String,
    host: String,
    authorization: String,
}

impl Client {
    pub fn new(server: &HttpServer) -> Client {
        Client::to(
            server.url.clone(),
            server.host.clone(),
            server.authorization.clone(),
        )
    }

    /// A client for the API at `url` (`http://127.0.0.1:PORT`), sending `host` as the Host
    /// header and `authorization` (`Bearer <token>`).
    pub fn to(url: String, host: String, authorization: String) -> Client {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(300))
                .build(),
            url,
            host,
            authorization,
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent
            .request(method, &format!("{}{path}", self.url))
            .set("Host", &self.host)
            .set("Authorization", &self.authorization)
    }

    /// Sends `body` and reads the whole answer (so the connection can be reused); the status
    /// must be `expect`.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        expect: u16,
    ) -> anyhow::Result<String> {
        let result = self
            .request("POST", path)
            .set("Content-Type", content_type)
            .send_string(body);
        answer(result, expect, "POST", path)
    }

    pub fn get(&self, path: &str) -> anyhow::Result<String> {
        answer(self.request("GET", path).call(), 200, "GET", path)
    }
}

fn answer(
    result: Result<ureq::Response, ureq::Error>,
    expect: u16,
    method: &str,
    path: &str,
) -> anyhow::Result<String> {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(status, response)) => {
            let body = response.into_string().unwrap_or_default();
            bail!("{method} {path} answered {status}: {body}");
        }
        Err(e) => return Err(e).with_context(|| format!("{method} {path} failed")),
    };
    let status = response.status();
    let body = response
        .into_string()
        .with_context(|| format!("cannot read the answer to {method} {path}"))?;
    ensure!(
        status == expect,
        "{method} {path} answered {status}, not {expect}: {body}"
    );
    Ok(body)
}
