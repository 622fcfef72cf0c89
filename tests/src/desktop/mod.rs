//! The desktop fixture: the real `nightshift-desktop` in a private X display (Xvfb) and a
//! private D-Bus session bus, with a temp `HOME`, `XDG_RUNTIME_DIR` and `NIGHTSHIFT_HOME`, so
//! every test has its own app, tray, notifications and autostart folder and tests run side by
//! side. Test peers on the bus stand in for the desktop shell: the fixture's own [`Watcher`]
//! (a StatusNotifierWatcher, always there, so the app's tray registers with it) and, when a
//! test starts one, a [`NotificationServer`]. [`TauriDriver`] drives the window over WebDriver.
//!
//! The app counts as started once `daemon.json` names it *and* its tray item has registered.
//! The first alone is not enough: the app writes daemon.json at the start of its setup, and
//! subscribes to engine events (notifications) and installs its signal handlers later (see
//! `lifecycle::the_app_handles_sigterm_as_soon_as_it_says_it_is_ready`). The registration comes
//! from the GTK main loop, which does not run until setup has returned, so it marks the end of
//! setup.
//!
//! The app is `target/<profile>/nightshift-desktop` beside the test executable (build it with
//! `cargo build -p nightshift-desktop`), or whatever `NIGHTSHIFT_DESKTOP_BIN` names. Dropping a
//! [`Desktop`] kills the app and every process carrying its `NIGHTSHIFT_HOME` (tauri-driver,
//! WebKitWebDriver, WebKit's helpers, jobs), then the bus and the display. Waits poll with
//! deadlines; nothing sleeps to synchronise.

mod notifications;
mod session;
mod tray;
mod webdriver;
mod x11;

pub use notifications::{Notification, NotificationServer};
pub use session::{Bus, Xvfb};
pub use tray::{MenuEntry, Registration, TrayItem, Watcher, png_pixels, repo_icon};
pub use webdriver::{TauriDriver, WdError, WdSession, tauri_driver_bin};

use crate::{Daemon, START_TIMEOUT, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// How long the app may take to stop after SIGTERM or Quit (kill grace is 1 s in tests).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The desktop app under test.
pub fn desktop_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("NIGHTSHIFT_DESKTOP_BIN") {
        return PathBuf::from(path);
    }
    let path = crate::bin().with_file_name("nightshift-desktop");
    assert!(
        path.is_file(),
        "the desktop app is not at {}: build it with `cargo build -p nightshift-desktop`, or set \
         NIGHTSHIFT_DESKTOP_BIN",
        path.display()
    );
    path
}

/// Options before the display and the bus start.
#[derive(Debug, Default)]
pub struct DesktopBuilder {
    desktop: Vec<String>,
    jobs: Vec<String>,
    tables: String,
}

impl DesktopBuilder {
    /// A line of the config's `[desktop]` table, e.g. `notifications = false`.
    pub fn desktop(mut self, line: &str) -> DesktopBuilder {
        self.desktop.push(line.to_string());
        self
    }

    /// A line of the config's `[jobs]` table, e.g. `max_interruptions = 1`.
    pub fn jobs(mut self, line: &str) -> DesktopBuilder {
        self.jobs.push(line.to_string());
        self
    }

    /// More config tables (not `[server]`, `[jobs]` or `[desktop]`), e.g. `[queues.burst]`.
    pub fn tables(mut self, toml: &str) -> DesktopBuilder {
        self.tables.push_str(toml);
        self
    }

    /// Starts the display and the bus and prepares the folders; the app is not started.
    pub fn start(self) -> Desktop {
        let config = format!(
            "[server]\nport = 0\n\n[jobs]\nkill_grace = \"1s\"\n{}\n\n[desktop]\n{}\n{}",
            self.jobs.join("\n"),
            self.desktop.join("\n"),
            self.tables
        );
        let daemon = Daemon::builder().config(&config).prepare();
        let root = daemon.root().to_path_buf();
        let user_home = root.join("user");
        let runtime = root.join("run");
        for dir in [&user_home, &runtime] {
            fs::create_dir_all(dir).expect("cannot create the desktop folders");
        }
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        let x = Xvfb::start(&root.join("xvfb.log"));
        let bus = Bus::start(&runtime, &root.join("bus.log"));
        let watcher = Watcher::start(&bus);
        Desktop {
            daemon,
            app: None,
            watcher,
            tray: None,
            user_home,
            runtime,
            bus,
            x,
        }
    }
}

/// One test's desktop session and app.
pub struct Desktop {
    daemon: Daemon,
    app: Option<Child>,
    watcher: Watcher,
    tray: Option<TrayItem>,
    user_home: PathBuf,
    runtime: PathBuf,
    bus: Bus,
    x: Xvfb,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("daemon", &self.daemon)
            .field("display", &self.x.display())
            .field("bus", &self.bus.address())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Desktop {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.daemon
    }
}

impl std::ops::DerefMut for Desktop {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

impl Desktop {
    pub fn builder() -> DesktopBuilder {
        DesktopBuilder::default()
    }

    /// The tray item of the app started last (registered with the fixture's watcher).
    pub fn tray(&self) -> &TrayItem {
        self.tray.as_ref().expect("the app has not been started")
    }

    /// The fixture's StatusNotifierWatcher.
    pub fn watcher(&self) -> &Watcher {
        &self.watcher
    }

    fn wait_tray(&mut self, pid: u32) {
        self.tray = Some(self.watcher.wait_item_of(&self.bus, pid, START_TIMEOUT));
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn x(&self) -> &Xvfb {
        &self.x
    }

    /// `HOME` of the app.
    pub fn user_home(&self) -> &Path {
        &self.user_home
    }

    /// Where start at login puts its entry (XDG autostart under the test's `HOME`).
    pub fn autostart_file(&self) -> PathBuf {
        self.user_home.join(".config/autostart/Nightshift.desktop")
    }

    /// Sets the desktop session's environment on `cmd`: the test's display, bus and folders.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_remove("WAYLAND_DISPLAY")
            .env_remove("XAUTHORITY")
            .env("DISPLAY", self.x.display())
            .env("GDK_BACKEND", "x11")
            .env("DBUS_SESSION_BUS_ADDRESS", self.bus.address())
            .env("HOME", &self.user_home)
            .env("XDG_CONFIG_HOME", self.user_home.join(".config"))
            .env("XDG_DATA_HOME", self.user_home.join(".local/share"))
            .env("XDG_CACHE_HOME", self.user_home.join(".cache"))
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("NIGHTSHIFT_HOME", self.daemon.home())
            .env("NIGHTSHIFT_LOG", "info")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("NO_AT_BRIDGE", "1")
            .env("GSETTINGS_BACKEND", "memory")
            .current_dir(self.daemon.scratch());
    }

    /// A command running the app with `args` in this session (output as the caller sets it).
    pub fn app_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(desktop_bin());
        cmd.args(args);
        self.env(&mut cmd);
        cmd
    }

    fn log(&self) -> fs::File {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.daemon.stderr_path())
            .expect("cannot open the app log")
    }

    /// Starts the app and waits until it has started (`daemon.json` names it and its tray item
    /// has registered); returns its pid.
    pub fn launch(&mut self, args: &[&str]) -> u32 {
        let pid = self.spawn_app(args);
        let mut exited = None;
        let ready = wait_until(START_TIMEOUT, || {
            exited = self.app_exit();
            exited.is_some() || self.daemon.attach(Some(pid)).is_some()
        });
        assert!(
            exited.is_none(),
            "nightshift-desktop exited while starting ({exited:?}):\n{}",
            self.daemon_stderr()
        );
        assert!(
            ready,
            "nightshift-desktop (pid {pid}) was not ready within {START_TIMEOUT:?}:\n{}",
            self.daemon_stderr()
        );
        self.wait_tray(pid);
        pid
    }

    /// Starts the app without waiting for anything; returns its pid.
    pub fn spawn_app(&mut self, args: &[&str]) -> u32 {
        assert!(self.app.is_none(), "the app is already running");
        let mut cmd = self.app_command(args);
        cmd.stdin(Stdio::null())
            .stdout(self.log())
            .stderr(self.log());
        let child = cmd.spawn().expect("cannot start nightshift-desktop");
        let pid = child.id();
        self.app = Some(child);
        pid
    }

    /// Starts the app and returns the moment `daemon.json` names it, looking without pauses so
    /// as to come as close as possible to that moment (for tests of what the app promises once
    /// it says it is up). Nothing else is awaited.
    pub fn spawn_until_announced(&mut self, args: &[&str]) -> u32 {
        let pid = self.spawn_app(args);
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        while self.daemon.attach(Some(pid)).is_none() {
            if let Some(status) = self.app_exit() {
                panic!(
                    "the app exited while starting ({status}):\n{}",
                    self.daemon_stderr()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the app did not write daemon.json within {START_TIMEOUT:?}"
            );
            std::thread::yield_now();
        }
        pid
    }

    /// How the app this fixture started exited, if it has (it is then forgotten).
    pub fn app_exit(&mut self) -> Option<ExitStatus> {
        let child = self.app.as_mut()?;
        let status = child.try_wait().expect("cannot poll the app")?;
        self.app = None;
        Some(status)
    }

    /// Waits until an app started by someone else (WebDriver) is up (as [`Desktop::launch`]
    /// does); returns its pid.
    pub fn attach_app(&mut self) -> u32 {
        let mut pid = None;
        let ready = wait_until(START_TIMEOUT, || {
            pid = self.daemon.attach(None);
            pid.is_some_and(|p| crate::is_live(p as i32))
        });
        assert!(
            ready,
            "the app did not write daemon.json within {START_TIMEOUT:?}"
        );
        let pid = pid.expect("a pid");
        self.wait_tray(pid);
        pid
    }

    /// Waits for the app this fixture started to exit; its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self
            .app
            .as_mut()
            .expect("the app was not started by the fixture");
        let mut status = None;
        let exited = wait_until(timeout, || {
            status = child.try_wait().expect("cannot poll the app");
            status.is_some()
        });
        assert!(
            exited,
            "the app did not exit within {timeout:?}:\n{}",
            self.daemon_stderr()
        );
        self.app = None;
        status.expect("exited")
    }

    /// Sends SIGTERM to the app this fixture started and waits for it to exit.
    pub fn terminate_app(&mut self) -> ExitStatus {
        let pid = self.app.as_ref().expect("the app is not running").id();
        kill(Pid::from_raw(pid as i32), Signal::SIGTERM).expect("cannot SIGTERM the app");
        self.wait_exit(STOP_TIMEOUT)
    }

    /// Kills the app with SIGKILL (no clean-up: its jobs live on, daemon.json stays).
    pub fn kill_app(&mut self) {
        let mut child = self.app.take().expect("the app is not running");
        child.kill().expect("cannot SIGKILL the app");
        child.wait().expect("cannot reap the app");
    }

    /// A tauri-driver in this session (WebDriver sessions start the app through it).
    pub fn tauri_driver(&self) -> TauriDriver {
        let mut cmd = Command::new(tauri_driver_bin());
        self.env(&mut cmd);
        TauriDriver::start(cmd, &self.daemon.root().join("tauri-driver.log"))
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in ["tauri-driver.log", "bus.log", "xvfb.log"] {
                let log = fs::read_to_string(self.daemon.root().join(name)).unwrap_or_default();
                if !log.trim().is_empty() {
                    eprintln!("--- {name} ---\n{log}");
                }
            }
        }
        if let Some(mut child) = self.app.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Then the daemon fixture ends everything tagged with this NIGHTSHIFT_HOME, and the bus
        // and the display stop last (fields drop in order).
    }
}
