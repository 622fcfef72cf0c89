//! Figure 4, single jobs over HTTP: sequential `POST /api/jobs` requests on one keep-alive
//! connection, into a held queue (concurrency 0) so nothing runs. Baseline: as many
//! `GET /api/health` requests on the same connection (the HTTP stack, the security checks and
//! JSON, without touching the store). The two alternate in blocks, so both see the machine
//! in the same mood.

use crate::harness::{BenchEngine, Client, HttpServer, on_thread};
use crate::report::{Figure, Target};
use crate::stats::per_second;
use std::time::{Duration, Instant};

const QUEUE: &str = "held";
/// Requests of each kind sent first and not counted.
const WARM_UP: usize = 20;
/// Requests of one kind sent back to back before switching to the other kind.
const BLOCK: usize = 100;

pub async fn run(requests: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = BenchEngine::start(&[(QUEUE, 0)]).await?;
    let server = HttpServer::start(&bench.engine).await?;
    let client = Client::new(&server);
    let (enqueue, health) = on_thread("http-client", move || {
        let body = format!("{{\"cmd\":[\"/bin/true\"],\"queue\":\"{QUEUE}\"}}");
        let post = || client.post("/api/jobs", "application/json", &body, 201);
        let get = || client.get("/api/health");
        for _ in 0..WARM_UP {
            get()?;
            post()?;
        }
        let (mut get_time, mut post_time) = (Duration::ZERO, Duration::ZERO);
        let mut sent = 0;
        while sent < requests {
            let block = BLOCK.min(requests - sent);
            let t = Instant::now();
            for _ in 0..block {
                get()?;
            }
            get_time += t.elapsed();
            let t = Instant::now();
            for _ in 0..block {
                post()?;
            }
            post_time += t.elapsed();
            sent += block;
        }
        Ok((
            per_second(requests, post_time),
            per_second(requests, get_time),
        ))
    })
    .await?;
    server.stop().await?;
    bench.stop().await;
    Ok(vec![Figure {
        key: "enqueue_single_http_per_s",
        name: "enqueue one job per HTTP request, keep-alive".into(),
        unit: "req/s",
        value: enqueue,
        baseline: health,
        baseline_name: "GET /api/health on the same connection".into(),
        target: Target::AtLeast(2000.0),
    }])
}
