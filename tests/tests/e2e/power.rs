//! The power source as the daemon sees it: the simulated source is read from its file while
//! the daemon runs, and `nightshift power` reports it.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, group_members, stopped, wait_for};
use serde_json::Value;

#[test]
fn the_simulated_source_follows_its_file() {
    let d = Daemon::with_config("[power]\nsource = \"simulated\"\npoll = \"1s\"\n");
    let file = d.home().join("power.json");
    let power =
        |d: &Daemon| -> Value { serde_json::from_str(&d.cli_ok(&["power", "--json"])).unwrap() };
    // No file yet: unreadable power counts as AC rather than holding work back.
    let first = power(&d);
    assert_eq!(first["on_ac"], true, "{first}");
    assert!(
        first["source"].as_str().unwrap().starts_with("simulated ("),
        "{first}"
    );

    std::fs::write(&file, r#"{"on_ac": false, "percent": 42}"#).unwrap();
    wait_for(JOB_TIMEOUT, "the daemon to see the battery", || {
        power(&d)["on_ac"] == false
    });
    let now = power(&d);
    assert_eq!(now["battery_percent"], 42.0, "{now}");
    assert_eq!(
        d.cli_ok(&["power"]).trim(),
        "on battery, 42% (source: simulated (".to_string() + &file.display().to_string() + "))"
    );

    std::fs::write(&file, r#"{"on_ac": true, "percent": 43}"#).unwrap();
    wait_for(JOB_TIMEOUT, "the daemon to see AC again", || {
        power(&d)["on_ac"] == true
    });
}

#[test]
fn an_ac_only_queue_waits_on_battery_says_why_and_runs_on_ac() {
    let d = Daemon::builder()
        .config(
            "[power]\nsource = \"simulated\"\npoll = \"1s\"\n[queues.heavy]\nrequire_ac = true\n",
        )
        .prepare();
    let file = d.home().join("power.json");
    std::fs::write(&file, r#"{"on_ac": false, "percent": 80}"#).unwrap();
    let mut d = d;
    d.restart();
    let id = d.add(&["-q", "heavy", "--", "true"]);
    let light = d.add(&["--", "true"]);
    wait_for(JOB_TIMEOUT, "the job without a power policy to run", || {
        d.state(light) == "succeeded"
    });
    let why = || {
        d.show(id)["job"]["waiting"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    wait_for(JOB_TIMEOUT, "the AC-only job to say why it waits", || {
        why().contains("waits for AC power")
    });
    assert_eq!(d.show(id)["job"]["waiting"]["kind"], "on_battery");
    assert_eq!(d.state(id), "queued");
    let power = d.cli_ok(&["power"]);
    assert!(power.contains("holding back queue heavy"), "{power}");

    std::fs::write(&file, r#"{"on_ac": true, "percent": 81}"#).unwrap();
    wait_for(JOB_TIMEOUT, "the job to run once on AC", || {
        d.state(id) == "succeeded"
    });
}

#[test]
fn a_running_job_pauses_on_battery_and_goes_on_when_ac_returns() {
    let d = Daemon::builder()
        .config("[power]\nsource = \"simulated\"\npoll = \"1s\"\n")
        .prepare();
    let file = d.home().join("power.json");
    std::fs::write(&file, r#"{"on_ac": true, "percent": 90}"#).unwrap();
    let mut d = d;
    d.restart();
    d.cli_ok(&[
        "queue",
        "set",
        "heavy",
        "--require-ac",
        "--on-power-loss",
        "pause",
    ]);
    let go = d.scratch().join("go");
    let script = format!(
        "sleep 300 & while [ ! -e '{}' ]; do sleep 0.02; done; kill $!",
        go.display()
    );
    let id = d.add(&["-q", "heavy", "--shell", "--", &script]);
    let pgid = d.wait_running(id);
    wait_for(JOB_TIMEOUT, "the job's two processes", || {
        group_members(pgid).len() == 2
    });

    std::fs::write(&file, r#"{"on_ac": false, "percent": 90}"#).unwrap();
    wait_for(JOB_TIMEOUT, "the job's processes to stop", || {
        let members = group_members(pgid);
        !members.is_empty() && members.iter().all(|pid| stopped(*pid))
    });
    let job = d.show(id);
    assert_eq!(job["job"]["state"], "running");
    assert_eq!(job["job"]["waiting"]["kind"], "paused_for_power", "{job}");
    let shown = d.cli_ok(&["show", &id.to_string()]);
    assert!(shown.contains("paused: on battery"), "{shown}");
    let power = d.cli_ok(&["power"]);
    assert!(
        power.contains(&format!("job {id} paused: on battery")),
        "{power}"
    );

    std::fs::write(&file, r#"{"on_ac": true, "percent": 91}"#).unwrap();
    wait_for(JOB_TIMEOUT, "the job's processes to go on", || {
        let members = group_members(pgid);
        !members.is_empty() && members.iter().all(|pid| !stopped(*pid))
    });
    assert!(d.show(id)["job"]["waiting"].is_null());
    std::fs::write(&go, "").unwrap();
    wait_for(JOB_TIMEOUT, "the job to finish", || {
        d.state(id) == "succeeded"
    });
}
