//! The fleet kit in `monitoring/`, for real: promtool checks the rules and the configuration and
//! runs the alerts' unit tests, and a real Prometheus, started with the kit's own
//! `prometheus.yml` (intervals shortened), scrapes two real Nightshift daemons through their
//! `metrics.listen` addresses with one shared token while they run a workload. Every dashboard
//! query and every recording rule must then return data, and a failure storm must bring the
//! failure-rate alert to pending.

use nightshift_e2e::{Daemon, wait_until};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../monitoring")
}

fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (Debian's prometheus package; cargo xtask test installs it): {e}")
        });
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?}:\n{said}");
    said
}

/// The `- alert:` blocks of the alert rules, each as its name and its lines.
fn alert_blocks(rules: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            blocks.push((name.to_string(), String::new()));
        } else if line.trim_start().starts_with("- record: ") {
            blocks.push((String::new(), String::new()));
        } else if let Some((_, body)) = blocks.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks.retain(|(name, _)| !name.is_empty());
    blocks
}

#[test]
fn the_kit_passes_promtool_and_every_alert_is_complete_and_tested() {
    let kit = kit();
    run(
        "promtool",
        &[
            "check",
            "rules",
            "rules/nightshift-recording.yml",
            "rules/nightshift-alerts.yml",
        ],
        &kit,
    );
    let tested = run(
        "promtool",
        &["test", "rules", "tests/alerts.test.yml"],
        &kit,
    );
    assert!(tested.contains("SUCCESS"), "{tested}");

    // The configuration, in a copy with a token and a target list beside it.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&kit, copy.path());
    std::fs::write(copy.path().join("nightshift.token"), "t0ken").unwrap();
    std::fs::copy(
        copy.path().join("targets/example.yml.sample"),
        copy.path().join("targets/example.yml"),
    )
    .unwrap();
    run(
        "promtool",
        &["check", "config", "prometheus.yml"],
        copy.path(),
    );

    let rules = std::fs::read_to_string(kit.join("rules/nightshift-alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(kit.join("tests/alerts.test.yml")).unwrap();
    let blocks = alert_blocks(&rules);
    assert!(blocks.len() >= 10, "{blocks:?}");
    for (name, body) in &blocks {
        for part in ["for: ", "summary: ", "description: "] {
            assert!(body.contains(part), "alert {name} has no `{part}`");
        }
        assert!(
            ["severity: critical", "severity: warning", "severity: info"]
                .iter()
                .any(|s| body.contains(s)),
            "alert {name} has no severity"
        );
        assert!(
            tests.contains(&format!("alertname=\"{name}\""))
                || tests.contains(&format!("alertname: {name}")),
            "alert {name} has no unit test"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Prometheus started by the test, stopped (and waited for) when dropped.
struct Prometheus {
    child: Child,
    url: String,
    agent: ureq::Agent,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(config: &Path, data: &Path, log: &Path) -> Prometheus {
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("prometheus from Debian's prometheus package (cargo xtask test installs it)");
        let prometheus = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .build(),
        };
        let ready = wait_until(Duration::from_secs(60), || {
            prometheus
                .agent
                .get(&format!("{}/-/ready", prometheus.url))
                .call()
                .is_ok()
        });
        assert!(
            ready,
            "Prometheus did not become ready:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        prometheus
    }

    /// The result vector of an instant query (empty on an error, which is printed).
    fn query(&self, expr: &str) -> Vec<Value> {
        let answer = self
            .agent
            .get(&format!("{}/api/v1/query", self.url))
            .query("query", expr)
            .call();
        match answer {
            Ok(response) => {
                let body: Value = response.into_json().unwrap();
                body["data"]["result"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            }
            Err(e) => {
                eprintln!("query {expr}: {e}");
                Vec::new()
            }
        }
    }

    fn alerts(&self) -> Vec<Value> {
        let body: Value = self
            .agent
            .get(&format!("{}/api/v1/alerts", self.url))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        body["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Every PromQL expression of the dashboard (its panels' targets and its variables' metrics),
/// with the variables as Grafana would fill them for "All".
fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(kit().join("grafana/nightshift.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let fill = |expr: &str| {
        expr.replace("$instance", ".*")
            .replace("$queue", ".*")
            .replace("$__rate_interval", "1m")
    };
    let mut queries: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| fill(t["expr"].as_str().expect("every target has an expr")))
        .collect();
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(definition) = variable["definition"].as_str() {
            // label_values(METRIC, LABEL): the metric must have series.
            let inner = definition
                .strip_prefix("label_values(")
                .and_then(|rest| rest.rsplit_once(','))
                .map(|(metric, _)| metric.to_string())
                .expect("a label_values variable");
            queries.push(fill(&inner));
        }
    }
    assert!(queries.len() >= 20, "{queries:?}");
    queries
}

fn recording_rules() -> Vec<String> {
    std::fs::read_to_string(kit().join("rules/nightshift-recording.yml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: ").map(str::to_string))
        .collect()
}

/// A daemon serving /metrics on its own port with the shared token, on simulated power (so
/// the battery's series exist too).
fn daemon(token: &str) -> (Daemon, u16) {
    let port = free_port();
    let mut d = Daemon::builder()
        .config(&format!(
            "[metrics]\nlisten = \"127.0.0.1:{port}\"\nlisten_token_file = \"metrics-token\"\n\
             [power]\nsource = \"simulated\"\n"
        ))
        .prepare();
    std::fs::write(d.home().join("metrics-token"), token).unwrap();
    std::fs::write(
        d.home().join("power.json"),
        r#"{"on_ac": true, "percent": 80}"#,
    )
    .unwrap();
    d.restart();
    (d, port)
}

#[test]
fn a_real_prometheus_scrapes_two_nightshifts_and_every_query_and_rule_has_data() {
    let token = "fleet-token-0123456789abcdef";
    let (a, port_a) = daemon(token);
    let (b, port_b) = daemon(token);

    let dir = tempfile::tempdir().unwrap();
    let kit_copy = dir.path().join("monitoring");
    copy_dir(&kit(), &kit_copy);
    std::fs::write(kit_copy.join("nightshift.token"), token).unwrap();
    std::fs::write(
        kit_copy.join("targets/test.yml"),
        format!("- targets: [\"127.0.0.1:{port_a}\", \"127.0.0.1:{port_b}\"]\n"),
    )
    .unwrap();
    // The kit's own configuration, with its intervals shortened for the test.
    let config_path = kit_copy.join("prometheus.yml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let fast = config
        .replace("scrape_interval: 30s", "scrape_interval: 1s")
        .replace("evaluation_interval: 30s", "evaluation_interval: 1s")
        .replace("refresh_interval: 1m", "refresh_interval: 1s");
    assert_eq!(fast.matches(": 1s").count(), 3, "{config}");
    std::fs::write(&config_path, fast).unwrap();
    let prometheus = Prometheus::start(
        &config_path,
        &dir.path().join("data"),
        &dir.path().join("prometheus.log"),
    );

    // Both scraped before any work: a counter whose series first appears already raised shows
    // no increase (so does any exporter's).
    let scraped = wait_until(Duration::from_secs(60), || {
        prometheus
            .query("sum(up{job=\"nightshift\"})")
            .first()
            .is_some_and(|s| s["value"][1] == "2")
    });
    assert!(scraped, "Prometheus never scraped both daemons");
    // A workload on both: successes that take a moment, and a storm of failures that take a
    // second each, so the storm's counters rise across scrapes.
    for d in [&a, &b] {
        for _ in 0..6 {
            d.add(&["--queue", "work", "--", "sleep", "0.2"]);
        }
        for _ in 0..8 {
            d.add(&["--queue", "storm", "--", "sh", "-c", "sleep 1; exit 1"]);
        }
    }

    let queries = dashboard_queries();
    let rules = recording_rules();
    assert!(rules.len() >= 10, "{rules:?}");
    let mut missing: Vec<String> = Vec::new();
    let all_answer = wait_until(Duration::from_secs(90), || {
        missing = queries
            .iter()
            .chain(&rules)
            .filter(|q| prometheus.query(q).is_empty())
            .cloned()
            .collect();
        missing.is_empty()
    });
    assert!(
        all_answer,
        "these return no data:\n{}\nPrometheus said:\n{}",
        missing.join("\n"),
        std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
    );

    // Both machines are up, and seen apart.
    let up = prometheus.query("sum(up{job=\"nightshift\"})");
    assert_eq!(up[0]["value"][1], "2", "{up:?}");
    let instances = prometheus.query("count by (instance) (nightshift_build_info)");
    assert_eq!(instances.len(), 2, "{instances:?}");

    // The storm (every job of "storm" failed, 8 on each machine) brings the failure-rate alert
    // to pending on both; its `for` keeps it from firing within the test.
    let mut pending = Vec::new();
    let alerted = wait_until(Duration::from_secs(30), || {
        pending = prometheus
            .alerts()
            .into_iter()
            .filter(|a| {
                a["labels"]["alertname"] == "NightshiftHighFailureRate"
                    && a["labels"]["queue"] == "storm"
                    && a["state"] == "pending"
            })
            .collect();
        pending.len() == 2
    });
    assert!(
        alerted,
        "pending: {pending:#?}\nall: {:#?}\nfailure ratio: {:#?}\njudged: {:#?}",
        prometheus.alerts(),
        prometheus.query("nightshift:failure_ratio:15m"),
        prometheus.query("nightshift:jobs_judged:increase15m"),
    );
    let quiet = prometheus.alerts().into_iter().any(|a| {
        a["labels"]["alertname"] == "NightshiftHighFailureRate" && a["labels"]["queue"] == "work"
    });
    assert!(!quiet, "the queue whose jobs succeed is not alerting");
}
