//! The system-CPU ceiling on a real machine: with every core kept busy by processes this test
//! starts, a job waits and the engine says why; once they stop, it runs.

mod support;

use nightshift_core::JobState;
use std::process::{Child, Command, Stdio};
use support::*;

/// Busy loops on every core, killed (and reaped) when dropped.
struct Burners(Vec<Child>);

impl Burners {
    fn start() -> Burners {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Burners(
            (0..cores)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .stdin(Stdio::null())
                        .spawn()
                        .expect("a busy loop starts")
                })
                .collect(),
        )
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_job_starts_while_the_cpu_is_over_the_ceiling() {
    let mut config = config();
    config.jobs.max_cpu = Some(85);
    let mut f = start(config).await;
    let burners = Burners::start();
    let id = f.add(sh("exit 0", "q")).await;
    let engine = f.engine.clone();
    eventually("the ceiling to hold", || engine.cpu_hold().is_some()).await;
    let hold = f.engine.cpu_hold().unwrap();
    assert!(hold.percent > 85.0 && hold.ceiling == 85, "{hold:?}");
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Queued));
    drop(burners);
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert!(f.engine.cpu_hold().is_none());
}
