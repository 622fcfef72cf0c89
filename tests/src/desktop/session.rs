//! A private X display (Xvfb) and a private D-Bus session bus for one test.

use crate::{START_TIMEOUT, describe, run_with_timeout, text};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;

/// Reads the first line a child prints on stdout, with a deadline (the read runs on a thread so
/// a child that never prints cannot hang the test).
fn first_line(stdout: ChildStdout, what: &str) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(START_TIMEOUT)
        .unwrap_or_else(|_| panic!("{what} printed nothing within {START_TIMEOUT:?}"));
    line.trim().to_string()
}

/// Stops a helper process: SIGTERM (so it removes its socket and lock files), then SIGKILL if
/// it lingers; always reaped.
fn stop(child: &mut Child) {
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let gone = crate::wait_until(std::time::Duration::from_secs(5), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !gone {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// `Xvfb` on a display number it picks itself (`-displayfd`), so tests never race for one.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    pub fn start(log: &Path) -> Xvfb {
        let stderr = fs::File::create(log).expect("cannot create the Xvfb log");
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Xvfb (apt-get install xvfb): {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let number = first_line(stdout, "Xvfb");
        assert!(
            !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
            "Xvfb did not print a display number ({number:?}):\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }

    /// The value for `DISPLAY`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Windows titled exactly `title`, mapped or not, as X window ids (`0x…`).
    pub fn windows(&self, title: &str) -> Vec<String> {
        let tree = self.xwininfo(&["-root", "-tree"]);
        let quoted = format!("\"{title}\"");
        tree.lines()
            .filter_map(|line| {
                let (id, rest) = line.trim_start().split_once(' ')?;
                (id.starts_with("0x") && rest.starts_with(&quoted)).then(|| id.to_string())
            })
            .collect()
    }

    /// Windows titled exactly `title` that are mapped and viewable.
    pub fn viewable_windows(&self, title: &str) -> Vec<String> {
        self.windows(title)
            .into_iter()
            .filter(|id| {
                self.xwininfo(&["-id", id])
                    .contains("Map State: IsViewable")
            })
            .collect()
    }

    /// Asks window `id` to close, as a window manager does for the user's close button.
    pub fn request_close(&self, id: &str) {
        super::x11::request_close(&self.display, id);
    }

    fn xwininfo(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("xwininfo");
        cmd.args(args).arg("-display").arg(&self.display);
        match run_with_timeout(cmd, START_TIMEOUT) {
            // A window can vanish between the tree and the look at it: that is "not viewable".
            Ok(out) => text(&out.stdout),
            Err(out) => panic!("xwininfo hung: {}", describe(&out)),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A `dbus-daemon` with a minimal session config: it listens in `dir`, lets every peer own any
/// name, and activates no services (so nothing from the machine answers in a test's place).
#[derive(Debug)]
pub struct Bus {
    child: Child,
    address: String,
}

impl Bus {
    pub fn start(dir: &Path, log: &Path) -> Bus {
        let config = dir.join("bus.conf");
        fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig>\n  <type>session</type>\n  <listen>unix:dir={}</listen>\n  \
                 <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    \
                 <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    \
                 <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n  </policy>\n</busconfig>\n",
                dir.display()
            ),
        )
        .expect("cannot write the bus config");
        let stderr = fs::File::create(log).expect("cannot create the bus log");
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dbus-daemon: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let address = first_line(stdout, "dbus-daemon");
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed {address:?}, not an address:\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        Bus { child, address }
    }

    /// The value for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A new connection of this test to the bus.
    pub fn connect(&self) -> zbus::blocking::Connection {
        self.builder()
            .build()
            .expect("cannot connect to the test bus")
    }

    /// A connection builder for this bus, for peers that own names and serve objects.
    pub fn builder(&self) -> zbus::blocking::connection::Builder<'static> {
        zbus::blocking::connection::Builder::address(self.address.as_str())
            .expect("a valid bus address")
    }

    /// The pid behind a bus name, if it is connected.
    pub fn try_pid_of(&self, conn: &zbus::blocking::Connection, name: &str) -> Option<u32> {
        let dbus = zbus::blocking::fdo::DBusProxy::new(conn).ok()?;
        let name = zbus::names::BusName::try_from(name.to_string()).ok()?;
        dbus.get_connection_unix_process_id(name).ok()
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
