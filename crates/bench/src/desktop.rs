//! Figure 7, the desktop app at rest: `nightshift-desktop --open` on a private headless display
//! (session.rs), its whole process tree (the app and the WebKit processes it starts) measured
//! with the window open, then again after the window is closed the way a user closes it, when
//! only the tray should be left: resident and private memory, processes, and wake-ups.
//! Baseline: `nightshift-bare-tray`, a bare Tauri app with a tray and no window built from the
//! same dependencies, running beside it on the same display, measured at the same moments.

use crate::procfs::{self, Process, Switches, kb_to_mb};
use crate::report::{Figure, Target};
use crate::session::{App, Session};
use crate::x11;
use anyhow::{Context, ensure};
use nightshift_core::Paths;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the desktop app may take to start its API and its web process (WebKit's first
/// start on a busy two-core machine takes seconds).
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long the window may take to appear, and to go once asked to close.
const WINDOW_LIMIT: Duration = Duration::from_secs(15);
/// How long the web process is given to exit after the window closes (it may not: reported).
const WEB_EXIT_LIMIT: Duration = Duration::from_secs(10);
/// Time left alone before each measurement (measurement, not synchronisation).
const SETTLE: Duration = Duration::from_secs(3);
/// How often the threads' counters are read during the wake-up window.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// The admin window's title.
const TITLE: &str = "Nightshift";
/// WebKit's web process, as the kernel names it (command names are cut to 15 bytes).
const WEB_PROCESS: &str = "WebKitWebProces";

/// What the memory notes say is summed.
const RSS_SUM: &str = "VmRSS summed over the process tree (shared pages count once per process)";
const PRIVATE_SUM: &str = "Private_Clean + Private_Dirty of smaps_rollup, summed over the tree";

pub fn run(bin_dir: &Path, window: Duration) -> anyhow::Result<Vec<Figure>> {
    let desktop_bin = bin_dir.join("nightshift-desktop");
    let bare_bin = bin_dir.join("nightshift-bare-tray");
    for bin in [&desktop_bin, &bare_bin] {
        ensure!(
            bin.is_file(),
            "no {} (build it with `cargo build --release -p nightshift-desktop`)",
            bin.display()
        );
    }
    let session = Session::start()?;
    let mut bare = session.launch("bare-tray", &bare_bin, &[])?;
    let mut desktop = session.launch("desktop", &desktop_bin, &["--open"])?;
    let pid = desktop.pid();

    let address = desktop.paths.address_file.clone();
    desktop.wait_for("address file", START_LIMIT, || Ok(address.exists()))?;
    desktop.wait_for("web process", START_LIMIT, || Ok(has_web_process(pid)))?;
    std::thread::sleep(SETTLE);
    let open = measure("desktop, window open", pid)?;

    close_window(&session, &mut desktop)?;
    health(&desktop.paths).context("the app's API does not answer after the window closed")?;
    let web_gone = desktop
        .wait_for("web process to exit", WEB_EXIT_LIMIT, || {
            Ok(!has_web_process(pid))
        })
        .is_ok();
    desktop.ensure_running()?;
    eprintln!(
        "  window closed; the app is alive and answers; its web process {}",
        if web_gone {
            "exited"
        } else {
            "is still running"
        }
    );
    std::thread::sleep(SETTLE);
    let tray = measure("desktop, window closed", pid)?;
    bare.ensure_running().context("the bare tray app")?;
    let base = measure("bare tray app", bare.pid())?;
    let (desktop_wakeups, bare_wakeups) = wakeups(pid, bare.pid(), window)?;

    // The desktop app quits cleanly on SIGTERM, as from its menu; the bare one just dies of it.
    desktop.stop("desktop app", true)?;
    bare.stop("bare tray app", false)?;
    let bare_is = |what: &str| format!("bare Tauri tray app; {what}");
    let memory = |key, name: &str, value: f64, baseline: f64, what, target| Figure {
        key,
        name: name.into(),
        unit: "MB",
        value,
        baseline,
        baseline_name: bare_is(what),
        target,
    };
    let processes = |key, name: &str, tree: &Tree| Figure {
        key,
        name: name.into(),
        unit: "procs",
        value: tree.0.len() as f64,
        baseline: base.0.len() as f64,
        baseline_name: format!("bare Tauri tray app; desktop's: {}", tree.names()),
        target: Target::None,
    };
    Ok(vec![
        memory(
            "desktop_open_rss_mb",
            "desktop window open: resident memory",
            open.rss_mb(),
            base.rss_mb(),
            RSS_SUM,
            Target::None,
        ),
        memory(
            "desktop_open_private_mb",
            "desktop window open: private memory",
            open.private_mb(),
            base.private_mb(),
            PRIVATE_SUM,
            Target::None,
        ),
        processes(
            "desktop_open_processes",
            "desktop window open: processes",
            &open,
        ),
        memory(
            "desktop_tray_rss_mb",
            "desktop tray-only RSS vs bare Tauri tray app",
            tray.rss_mb(),
            base.rss_mb(),
            RSS_SUM,
            Target::RatioAtMost(1.25),
        ),
        memory(
            "desktop_tray_private_mb",
            "desktop tray-only: private memory",
            tray.private_mb(),
            base.private_mb(),
            PRIVATE_SUM,
            Target::None,
        ),
        processes(
            "desktop_tray_processes",
            "desktop tray-only: processes",
            &tray,
        ),
        Figure {
            key: "desktop_tray_wakeups_per_s",
            name: format!("desktop tray-only wake-ups over {}s", window.as_secs()),
            unit: "/s",
            value: desktop_wakeups,
            baseline: bare_wakeups,
            baseline_name: bare_is("context switches of every thread in the tree, same window"),
            target: Target::AtMost(1.0),
        },
    ])
}

/// The memory of a process tree, one entry per process, the app first.
struct Tree(Vec<Process>);

impl Tree {
    fn rss_mb(&self) -> f64 {
        kb_to_mb(self.0.iter().map(|p| p.rss_kb).sum())
    }

    fn private_mb(&self) -> f64 {
        kb_to_mb(self.0.iter().map(|p| p.private_kb).sum())
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|p| p.name.as_str()).collect();
        names.join(" + ")
    }
}

/// Measures the tree under `pid`, and shows each process on stderr.
fn measure(label: &str, pid: u32) -> anyhow::Result<Tree> {
    let tree = Tree(procfs::tree_memory(pid)?);
    eprintln!(
        "  {label}: {} process(es), RSS {:.1} MB, private {:.1} MB",
        tree.0.len(),
        tree.rss_mb(),
        tree.private_mb()
    );
    for p in &tree.0 {
        eprintln!(
            "    {:>7} {:<20} RSS {:>6.1} MB  private {:>6.1} MB  anonymous {:>6.1} MB",
            p.pid,
            p.name,
            kb_to_mb(p.rss_kb),
            kb_to_mb(p.private_kb),
            kb_to_mb(p.anonymous_kb)
        );
    }
    Ok(tree)
}

fn has_web_process(pid: u32) -> bool {
    procfs::tree(pid)
        .into_iter()
        .any(|p| procfs::name(p).as_deref() == Some(WEB_PROCESS))
}

/// Closes the admin window as a user would, and waits until it is gone.
fn close_window(session: &Session, desktop: &mut App) -> anyhow::Result<()> {
    let display = session.display;
    let mut windows = Vec::new();
    desktop.wait_for("window titled Nightshift", WINDOW_LIMIT, || {
        windows = x11::windows_titled(display, TITLE)?;
        Ok(!windows.is_empty())
    })?;
    for &window in &windows {
        x11::ask_to_close(display, window)?;
    }
    // Tauri destroys a closed window rather than hiding it, so its X window goes away.
    desktop.wait_for("window to close", WINDOW_LIMIT, || {
        Ok(x11::windows_titled(display, TITLE)?.is_empty())
    })
}

/// `GET /api/health` on the app's local API, as the CLI would send it.
fn health(paths: &Paths) -> anyhow::Result<()> {
    let address = std::fs::read_to_string(&paths.address_file)?;
    let address: serde_json::Value = serde_json::from_str(&address)?;
    let url = address["url"]
        .as_str()
        .context("no url in the address file")?;
    let token = std::fs::read_to_string(&paths.token_file)?;
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    ureq::get(&format!("{url}/api/health"))
        .timeout(Duration::from_secs(10))
        .set("Host", host)
        .set("Authorization", &format!("Bearer {}", token.trim()))
        .call()?;
    Ok(())
}

/// Wake-ups per second of both trees over the same `window`; the busiest threads go to
/// stderr as name[tid] (a process's main thread has its pid as tid), to show where wake-ups
/// come from.
fn wakeups(desktop: u32, bare: u32, window: Duration) -> anyhow::Result<(f64, f64)> {
    let mut desktop_switches = Switches::start(desktop)?;
    let mut bare_switches = Switches::start(bare)?;
    let start = Instant::now();
    while start.elapsed() < window {
        std::thread::sleep(SAMPLE_EVERY.min(window.saturating_sub(start.elapsed())));
        desktop_switches.sample()?;
        bare_switches.sample()?;
    }
    let seconds = start.elapsed().as_secs_f64();
    for (label, switches) in [
        ("desktop", &desktop_switches),
        ("bare tray", &bare_switches),
    ] {
        let busiest: Vec<String> = switches
            .busiest(5)
            .into_iter()
            .map(|(tid, n)| format!("{}[{tid}] {n}", procfs::name(tid).unwrap_or_default()))
            .collect();
        let busiest = if busiest.is_empty() {
            "none".to_string()
        } else {
            busiest.join(", ")
        };
        eprintln!(
            "  {label}: {} switches in {seconds:.1}s; busiest threads: {busiest}",
            switches.total()
        );
    }
    Ok((
        desktop_switches.total() as f64 / seconds,
        bare_switches.total() as f64 / seconds,
    ))
}
