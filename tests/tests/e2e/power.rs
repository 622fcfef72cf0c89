//! The power source as the daemon sees it: the simulated source is read from its file while
//! the daemon runs, and `nightshift power` reports it.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, wait_for};
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
