//! A private headless desktop for the desktop-app figures: its own virtual display (Xvfb) and
//! session bus, and a fresh home for each app started in it, so a run neither touches the
//! user's desktop nor meets another test's display.

use crate::child::{Reaped, tail};
use crate::procfs;
use anyhow::{Context, bail};
use nightshift_core::Paths;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long an app may take to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// How long an app's child processes may outlive it before they are killed.
const ORPHAN_LIMIT: Duration = Duration::from_secs(3);
/// How long Xvfb and the bus may take to start.
const START_LIMIT: Duration = Duration::from_secs(20);

/// Each app's config: the API on a free port (so it never meets a running Nightshift), and no
/// notifications (there is no notification server on the private bus).
const CONFIG: &str = "[server]\nport = 0\n[desktop]\nnotifications = false\n";

/// Environment variables that would send an app to the user's desktop or folders.
const UNSET: &[&str] = &[
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
];

/// Fields drop in order: the bus and the display stop before their folder is removed.
pub struct Session {
    pub display: u32,
    bus_address: String,
    _bus: Reaped,
    _xvfb: Reaped,
    dir: TempDir,
}

impl Session {
    pub fn start() -> anyhow::Result<Session> {
        let dir = tempfile::Builder::new()
            .prefix("nightshift-bench-desktop-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        let runtime = dir.path().join("runtime");
        std::fs::create_dir(&runtime)?;
        // XDG_RUNTIME_DIR must be private to its user.
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
        // -displayfd: Xvfb picks a free display number itself and writes it once it accepts
        // clients, so there is neither a race for a number nor a guess at readiness.
        let (xvfb, number) = start_reporting(
            Command::new("Xvfb").args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ]),
            "Xvfb (Debian package xvfb)",
        )?;
        let display = number
            .trim()
            .parse()
            .with_context(|| format!("Xvfb reported the display {number:?}"))?;
        let (bus, bus_address) = start_reporting(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .env("XDG_RUNTIME_DIR", &runtime),
            "dbus-daemon (Debian package dbus)",
        )?;
        Ok(Session {
            display,
            bus_address: bus_address.trim().to_string(),
            _bus: bus,
            _xvfb: xvfb,
            dir,
        })
    }

    /// Starts `bin` with `args` on this display and bus, with a fresh home named `name`.
    pub fn launch(&self, name: &str, bin: &Path, args: &[&str]) -> anyhow::Result<App> {
        let home = self.dir.path().join(name);
        let paths = Paths::under(&home.join("nightshift"));
        std::fs::create_dir_all(&paths.data_dir)?;
        std::fs::write(&paths.config_file, CONFIG)?;
        let log = home.join("app.log");
        let out = std::fs::File::create(&log).context("cannot create an app's log")?;
        let mut command = Command::new(bin);
        for var in UNSET {
            command.env_remove(var);
        }
        let child = command
            .args(args)
            .env("DISPLAY", format!(":{}", self.display))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("NIGHTSHIFT_HOME", &paths.data_dir)
            .env("GDK_BACKEND", "x11")
            // Software rendering as on a machine without a GPU, and no accessibility bus.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(App {
            child: Reaped(child),
            paths,
            log,
        })
    }
}

/// An app started in the session.
pub struct App {
    pub child: Reaped,
    pub paths: Paths,
    log: PathBuf,
}

impl App {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// Fails, with the end of its log, if the app has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self.child.exited()? {
            Some(status) => bail!("the app exited ({status}): {}", self.log_tail()),
            None => Ok(()),
        }
    }

    /// SIGTERM, then makes sure none of its processes is left behind: WebKit's should exit
    /// with their parent; any that do not are named and killed.
    pub fn stop(&mut self, label: &str, clean_exit: bool) -> anyhow::Result<()> {
        let family: Vec<(u32, Option<String>)> = procfs::tree(self.pid())
            .into_iter()
            .skip(1)
            .map(|p| (p, procfs::name(p)))
            .collect();
        let status = self
            .child
            .terminate(STOP_LIMIT)
            .with_context(|| format!("cannot stop the {label}"))?;
        if clean_exit && !status.success() {
            eprintln!(
                "warning: the {label} stopped with {status}: {}",
                self.log_tail()
            );
        }
        // The same pid under the same name is the same process: the check is seconds after
        // the listing.
        let alive = |(pid, name): &&(u32, Option<String>)| procfs::name(*pid) == *name;
        let deadline = Instant::now() + ORPHAN_LIMIT;
        while family.iter().any(|p| alive(&p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for (pid, name) in family.iter().filter(alive) {
            eprintln!("warning: the {label}'s {name:?} (pid {pid}) outlived it; killing it");
            let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
        }
        Ok(())
    }

    /// Polls `done` until it holds; fails if the app exits first or `within` passes.
    pub fn wait_for(
        &mut self,
        what: &str,
        within: Duration,
        mut done: impl FnMut() -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            self.ensure_running()
                .with_context(|| format!("waiting for {what}"))?;
            if done()? {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("no {what} within {within:?}: {}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts `command` and returns the first line it prints, which says it is ready. Its output
/// keeps being read (and dropped) afterwards, so it never meets a closed pipe.
fn start_reporting(command: &mut Command, what: &str) -> anyhow::Result<(Reaped, String)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let child = Reaped(child);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = sender.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    match receiver.recv_timeout(START_LIMIT) {
        Ok(line) if !line.trim().is_empty() => Ok((child, line)),
        Ok(_) => bail!("{what} exited before it was ready"),
        Err(_) => bail!("{what} was not ready within {START_LIMIT:?}"),
    }
}
