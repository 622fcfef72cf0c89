//! The sysfs reader against fixture trees shaped like real machines.

use nightshift_power::{PowerState, Sysfs};
use std::path::PathBuf;

fn machine(name: &str) -> PowerState {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Sysfs::new(root).read().unwrap()
}

#[test]
fn a_laptop_on_its_charger_ignores_the_mouse_battery() {
    assert_eq!(
        machine("laptop-on-ac"),
        PowerState {
            on_ac: true,
            battery_percent: Some(80.0)
        }
    );
}

#[test]
fn the_same_laptop_unplugged_is_on_battery() {
    assert_eq!(
        machine("laptop-on-battery"),
        PowerState {
            on_ac: false,
            battery_percent: Some(42.0)
        }
    );
}

#[test]
fn usb_c_power_delivery_counts_as_ac_and_energy_files_give_the_charge() {
    assert_eq!(
        machine("usb-c"),
        PowerState {
            on_ac: true,
            battery_percent: Some(55.0)
        }
    );
}

#[test]
fn a_desktop_without_a_system_battery_is_on_ac() {
    assert_eq!(machine("desktop"), PowerState::MAINS);
    assert_eq!(
        machine("no-such-machine"),
        PowerState::MAINS,
        "no power_supply class at all"
    );
}

#[test]
fn without_an_adapter_entry_the_batteries_decide_and_are_weighted_by_size() {
    // 20 of 40 and 10 of 10: 30 of 50 is 60%, not the 75% a plain mean would say.
    let state = machine("battery-adapter-unknown");
    assert!(!state.on_ac, "a discharging battery means no AC");
    assert_eq!(state.battery_percent, Some(60.0));
}

#[test]
fn a_battery_that_charges_with_every_adapter_offline_is_on_ac() {
    let dir = tempfile::tempdir().unwrap();
    let supply = dir.path().join("class/power_supply");
    for (entry, files) in [
        ("AC", vec![("type", "Mains"), ("online", "0")]),
        (
            "BAT0",
            vec![
                ("type", "Battery"),
                ("capacity", "70"),
                ("status", "Charging"),
            ],
        ),
    ] {
        std::fs::create_dir_all(supply.join(entry)).unwrap();
        for (file, value) in files {
            std::fs::write(supply.join(entry).join(file), format!("{value}\n")).unwrap();
        }
    }
    assert_eq!(
        Sysfs::new(dir.path()).read().unwrap(),
        PowerState {
            on_ac: true,
            battery_percent: Some(70.0)
        }
    );
}
