//! Reading `/proc`: a process and its descendants, their memory, and how often their threads
//! were switched out (a thread that sleeps and is woken up counts one switch per wake-up).

use anyhow::Context;
use std::collections::{HashMap, HashSet};

/// A `key: value` field of a `/proc/.../status` or `smaps_rollup` file (kB for sizes).
pub fn field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Resident memory of one process in MB (10^6 bytes).
pub fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kb = field(&status, "VmRSS").with_context(|| format!("no VmRSS in {path}"))?;
    Ok(kb_to_mb(kb))
}

pub fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1e6
}

/// The command name of a process (cut to 15 bytes by the kernel: "WebKitWebProces").
pub fn name(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_string())
}

/// The program a process runs: the file name of its argv[0] ("WebKitWebProcess"), or its
/// command name if it has none.
pub fn program(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    match String::from_utf8_lossy(argv0).rsplit('/').next() {
        Some(file) if !file.is_empty() => Some(file.to_string()),
        _ => name(pid),
    }
}

/// The fields of `/proc/<pid>/stat` after the name: "pid (comm) state ppid ...", where comm
/// may hold spaces and parentheses, so they are counted from the last ')'. The first is the
/// state (field 3).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    Some(after_comm.split_whitespace().map(str::to_string).collect())
}

/// The parent pid (field 4).
fn parent(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Linux reports CPU times in `/proc/<pid>/stat` in USER_HZ, which is 100 on every platform
/// (it is part of the kernel's ABI, whatever the kernel's own tick rate).
const USER_HZ: f64 = 100.0;

/// CPU time `pid` has used (user and system, all threads, not its children's), in ms: fields
/// 14 and 15.
pub fn cpu_ms(pid: u32) -> anyhow::Result<f64> {
    let fields = stat_fields(pid).with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("/proc/{pid}/stat has no CPU time field"))
    };
    Ok((ticks(11)? + ticks(12)?) as f64 * 1000.0 / USER_HZ)
}

/// `root` and every process descended from it (through any depth of parents), root first.
/// Processes born or gone during the scan may be missed; callers scan again when it matters.
pub fn tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(ppid) = parent(pid) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut found = vec![root];
    let mut next = 0;
    while let Some(&pid) = found.get(next) {
        found.extend(children.get(&pid).into_iter().flatten());
        next += 1;
    }
    found
}

/// The memory of one process, in kB.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    /// VmRSS from `status`: every page resident, shared ones included.
    pub rss_kb: u64,
    /// Private_Clean + Private_Dirty from `smaps_rollup`: pages mapped by this process only
    /// (anonymous or file-backed, written or not). Private_Dirty already holds the dirty
    /// anonymous pages, so Anonymous is not added on top.
    pub private_kb: u64,
    /// Anonymous from `smaps_rollup`: heap and stacks (private or shared with forked
    /// children), as opposed to pages of mapped files such as libraries.
    pub anonymous_kb: u64,
}

/// The memory of `root` and each of its descendants. `root` must be readable; a descendant
/// that exits meanwhile is left out.
pub fn tree_memory(root: u32) -> anyhow::Result<Vec<Process>> {
    let mut processes = Vec::new();
    for pid in tree(root) {
        match process_memory(pid) {
            Ok(process) => processes.push(process),
            Err(e) if pid == root => return Err(e),
            Err(_) => {}
        }
    }
    Ok(processes)
}

fn process_memory(pid: u32) -> anyhow::Result<Process> {
    let read = |file: &str| {
        let path = format!("/proc/{pid}/{file}");
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))
    };
    let status = read("status")?;
    let rollup = read("smaps_rollup")?;
    let rss_kb = field(&status, "VmRSS").with_context(|| format!("no VmRSS for pid {pid}"))?;
    let fields = ["Private_Clean", "Private_Dirty", "Anonymous"].map(|key| field(&rollup, key));
    let [Some(clean), Some(dirty), Some(anonymous_kb)] = fields else {
        anyhow::bail!("no Private_Clean, Private_Dirty or Anonymous in smaps_rollup of pid {pid}");
    };
    Ok(Process {
        pid,
        name: program(pid).unwrap_or_default(),
        rss_kb,
        private_kb: clean + dirty,
        anonymous_kb,
    })
}

/// Context switches of every thread of a process tree: the first and the latest reading.
pub struct Switches {
    root: u32,
    first: HashMap<u32, u64>,
    last: HashMap<u32, u64>,
}

impl Switches {
    pub fn start(root: u32) -> anyhow::Result<Switches> {
        let first = per_thread(root)?;
        Ok(Switches {
            root,
            last: first.clone(),
            first,
        })
    }

    /// Reads again (finding the tree anew); threads that have exited keep their last reading.
    pub fn sample(&mut self) -> anyhow::Result<()> {
        self.last.extend(per_thread(self.root)?);
        Ok(())
    }

    /// Switches since the first reading; threads born since count from zero.
    pub fn total(&self) -> u64 {
        self.last
            .iter()
            .map(|(tid, last)| last.saturating_sub(self.first.get(tid).copied().unwrap_or(0)))
            .sum()
    }

    /// The `n` threads (by id) switched most often since the first reading.
    pub fn busiest(&self, n: usize) -> Vec<(u32, u64)> {
        let mut threads: Vec<(u32, u64)> = self
            .last
            .iter()
            .map(|(&tid, last)| {
                (
                    tid,
                    last.saturating_sub(self.first.get(&tid).copied().unwrap_or(0)),
                )
            })
            .filter(|&(_, switches)| switches > 0)
            .collect();
        threads.sort_by_key(|&(_, switches)| std::cmp::Reverse(switches));
        threads.truncate(n);
        threads
    }
}

/// Voluntary plus involuntary context switches of every thread of every process in the tree
/// under `root`, by thread id (unique across processes). `root` must be there.
fn per_thread(root: u32) -> anyhow::Result<HashMap<u32, u64>> {
    let mut switches = HashMap::new();
    let mut seen = HashSet::new();
    for pid in tree(root) {
        let dir = format!("/proc/{pid}/task");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if pid == root => return Err(e).with_context(|| format!("cannot list {dir}")),
            // A descendant may exit between the scan and here.
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            // A thread may exit between the listing and the read.
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
                continue;
            };
            if seen.insert(tid) {
                let count = field(&status, "voluntary_ctxt_switches").unwrap_or(0)
                    + field(&status, "nonvoluntary_ctxt_switches").unwrap_or(0);
                switches.insert(tid, count);
            }
        }
    }
    Ok(switches)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_status_fields() {
        let status = "Name:\tx\nVmRSS:\t    1234 kB\nvoluntary_ctxt_switches:\t7\n\
                      nonvoluntary_ctxt_switches:\t2\n";
        assert_eq!(super::field(status, "VmRSS"), Some(1234));
        assert_eq!(super::field(status, "voluntary_ctxt_switches"), Some(7));
        assert_eq!(super::field(status, "nonvoluntary_ctxt_switches"), Some(2));
        assert_eq!(super::field(status, "VmSwap"), None);
    }

    #[test]
    fn finds_descendants() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // The forked child is named "sh" until it has exec'd sleep: wait for the name.
        let has_sleep = |found: &[u32]| {
            found[1..]
                .iter()
                .any(|&p| super::name(p).as_deref() == Some("sleep"))
        };
        let mut found = super::tree(pid);
        while !has_sleep(&found) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            found = super::tree(pid);
        }
        assert_eq!(found[0], pid);
        assert!(has_sleep(&found), "{found:?}");
        let memory = super::tree_memory(pid).unwrap();
        assert!(
            memory
                .iter()
                .all(|p| p.rss_kb > 0 && p.private_kb <= p.rss_kb)
        );
        for p in found.iter().rev() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*p as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.wait();
    }
}
