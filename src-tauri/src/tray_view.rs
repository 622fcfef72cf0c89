//! What the tray shows, computed from the engine's summary: one icon per health state and a
//! line of counts. Pure, so every state is tested without a display.

use nightshift_api::Summary;
use nightshift_core::JobState;

/// Health at a glance, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// An active incident nobody acknowledged or snoozed, a job failed for good (or jobs were
    /// lost to a crash) since the window was last opened, Nightshift itself needs a person
    /// (writes to its database fail), or a worker pool is short of workers (they exited and
    /// are restarting, or keep crashing).
    Attention,
    /// Every queue is held.
    Paused,
    /// Nothing runs, and queued work waits for power (AC, or a fuller battery).
    WaitingForPower,
    Running,
    Idle,
}

impl Health {
    pub const ALL: [Health; 5] = [
        Health::Attention,
        Health::Paused,
        Health::WaitingForPower,
        Health::Running,
        Health::Idle,
    ];

    /// The icon file's state name (`icons/tray-<name>.png`).
    #[cfg(test)]
    pub fn icon_name(self) -> &'static str {
        match self {
            Health::Attention => "attention",
            Health::Paused => "paused",
            Health::WaitingForPower => "waiting",
            Health::Running => "running",
            Health::Idle => "idle",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    pub health: Health,
    /// The menu's first line, and the tooltip where the platform has one.
    pub counts: String,
    pub tooltip: String,
    pub pause_label: &'static str,
    /// The menu's incident line: "Acknowledge: <title>" while an incident calls for the user
    /// (most severe first), else a disabled "No incident needs you".
    pub incident_label: String,
    /// The incident that line acknowledges.
    pub incident: Option<i64>,
}

/// The menu line when no incident calls for the user.
pub const NO_INCIDENT: &str = "No incident needs you";

/// `unseen_failures`: failed jobs the user has not looked at since opening the window.
pub fn view(summary: &Summary, unseen_failures: u64) -> TrayView {
    let waiting_for_power = !summary.held_for_power.is_empty() || summary.jobs_held_for_power;
    let count = |s: JobState| summary.counts.get(&s).copied().unwrap_or(0);
    let (running, queued, failed) = (
        summary.running as u64,
        count(JobState::Queued),
        count(JobState::Failed),
    );
    let health = if unseen_failures > 0
        || !summary.problems.is_empty()
        || !summary.pools_down.is_empty()
        || !summary.incidents.is_empty()
    {
        Health::Attention
    } else if summary.paused {
        Health::Paused
    } else if waiting_for_power && running == 0 && queued > 0 {
        Health::WaitingForPower
    } else if running > 0 {
        Health::Running
    } else {
        Health::Idle
    };
    let counts = format!("Running {running} · Queued {queued} · Failed {failed}");
    let state = match health {
        Health::Attention => match (
            summary.problems.first(),
            summary.incidents.first(),
            summary.pools_down.first(),
        ) {
            (Some(problem), _, _) => problem.clone(),
            // The most severe incident names itself; the rest are counted.
            (None, Some(first), _) => match summary.incidents.len() {
                1 => first.title.clone(),
                n => format!("{} (and {} more incidents)", first.title, n - 1),
            },
            (None, None, Some(down)) => down.clone(),
            (None, None, None) => format!("{unseen_failures} new failure(s)"),
        },
        Health::Paused => "paused".to_string(),
        Health::WaitingForPower => "waiting for power".to_string(),
        Health::Running => "running".to_string(),
        Health::Idle => "idle".to_string(),
    };
    let first = summary.incidents.first();
    TrayView {
        health,
        tooltip: format!("Nightshift: {state}\n{counts}"),
        counts,
        incident_label: first.map_or(NO_INCIDENT.to_string(), |i| {
            format!("Acknowledge: {}", i.title)
        }),
        incident: first.map(|i| i.id),
        pause_label: if summary.paused {
            "Resume all"
        } else {
            "Pause all"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn summary(running: usize, queued: u64, failed: u64, paused: bool, held: bool) -> Summary {
        let mut counts: BTreeMap<JobState, u64> =
            JobState::ALL.into_iter().map(|s| (s, 0)).collect();
        counts.insert(JobState::Running, running as u64);
        counts.insert(JobState::Queued, queued);
        counts.insert(JobState::Failed, failed);
        Summary {
            counts,
            running,
            paused,
            held_for_power: if held { vec!["q".into()] } else { Vec::new() },
            jobs_held_for_power: false,
            problems: Vec::new(),
            pools_down: Vec::new(),
            incidents: Vec::new(),
        }
    }

    #[test]
    fn an_incident_calling_for_the_user_is_attention_and_the_tooltip_names_it() {
        let mut s = summary(1, 5, 0, false, false);
        let brief = |id, title: &str| nightshift_api::IncidentBrief {
            id,
            severity: nightshift_api::Severity::Critical,
            title: title.into(),
        };
        s.incidents = vec![brief(4, "mail: 40.0% of attempts failing")];
        let v = view(&s, 0);
        assert_eq!(v.health, Health::Attention);
        assert!(
            v.tooltip.contains("mail: 40.0% of attempts failing"),
            "{}",
            v.tooltip
        );
        s.incidents.push(brief(5, "pool emb: 1 of 2 workers ready"));
        assert!(view(&s, 0).tooltip.contains("(and 1 more incidents)"));
        // The menu names the first and acknowledges it.
        let v = view(&s, 0);
        assert_eq!(
            v.incident_label,
            "Acknowledge: mail: 40.0% of attempts failing"
        );
        assert_eq!(v.incident, Some(4));
        // Acknowledged or snoozed, it is not in the summary's list: no attention.
        s.incidents.clear();
        assert_eq!(view(&s, 0).health, Health::Running);
        assert_eq!(view(&s, 0).incident_label, NO_INCIDENT);
    }

    #[test]
    fn a_worker_pool_short_of_workers_calls_for_attention_and_says_which() {
        let mut s = summary(1, 5, 0, false, false);
        s.pools_down = vec!["pool embed is crash-looping: the last one exited with code 3".into()];
        let v = view(&s, 0);
        assert_eq!(v.health, Health::Attention);
        assert!(
            v.tooltip.contains("pool embed is crash-looping"),
            "{}",
            v.tooltip
        );
    }

    #[test]
    fn a_problem_of_nightshift_itself_calls_for_attention_and_says_what() {
        let mut s = summary(1, 5, 0, false, false);
        s.problems = vec!["writes to the database fail: database or disk is full".into()];
        let v = view(&s, 0);
        assert_eq!(v.health, Health::Attention);
        assert!(v.tooltip.contains("disk is full"), "{}", v.tooltip);
    }

    #[test]
    fn each_state_wins_in_order_of_urgency() {
        assert_eq!(
            view(&summary(0, 0, 0, false, false), 0).health,
            Health::Idle
        );
        assert_eq!(
            view(&summary(2, 5, 0, false, false), 0).health,
            Health::Running
        );
        assert_eq!(
            view(&summary(0, 5, 0, false, true), 0).health,
            Health::WaitingForPower
        );
        assert_eq!(
            view(&summary(1, 5, 0, false, true), 0).health,
            Health::Running
        );
        assert_eq!(
            view(&summary(2, 5, 0, true, true), 0).health,
            Health::Paused
        );
        assert_eq!(
            view(&summary(2, 5, 3, true, true), 1).health,
            Health::Attention
        );
        // Old failures the user has seen are not a call for attention.
        assert_eq!(
            view(&summary(0, 0, 3, false, false), 0).health,
            Health::Idle
        );
    }

    #[test]
    fn counts_and_labels_follow_the_summary() {
        let v = view(&summary(2, 5, 1, false, false), 0);
        assert_eq!(v.counts, "Running 2 · Queued 5 · Failed 1");
        assert_eq!(v.pause_label, "Pause all");
        assert!(v.tooltip.starts_with("Nightshift: running\n"));
        assert_eq!(
            view(&summary(0, 5, 1, true, false), 0).pause_label,
            "Resume all"
        );
    }

    #[test]
    fn every_state_has_an_icon_file() {
        for health in Health::ALL {
            let path = format!(
                "{}/../icons/tray-{}.png",
                env!("CARGO_MANIFEST_DIR"),
                health.icon_name()
            );
            assert!(std::path::Path::new(&path).exists(), "missing {path}");
        }
    }
}
