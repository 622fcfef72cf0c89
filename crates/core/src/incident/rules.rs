//! The rules, each with its defaults (from the documents Nightshift came from: error rate over
//! 20% critical, success under 80% warning, a queue over 50 info, baselines as mean − 2σ and
//! p95 + 2σ) and the settings the config file may change (`[incidents.rules.NAME]`).

use super::Severity;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which rule.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// Failed attempts over the window, against all that ended.
    FailureRate,
    /// Jobs that succeeded over the window, against all that finished.
    SuccessRate,
    /// Jobs ready and waiting in a queue.
    Backlog,
    /// How much the ready backlog grew over the window.
    BacklogGrowing,
    /// Jobs ready, a slot free, and nothing started or ended over the window.
    Stalled,
    /// Run time p95 over the window above the learned p95 + 2σ and the floor.
    SlowProcessing,
    /// Success rate over the window under the learned mean − 2σ (and the ceiling).
    SuccessBelowBaseline,
    /// A pool with fewer workers ready than its count, or crash-looping.
    WorkerDown,
    /// Start-up found processes of a Nightshift that did not stop cleanly.
    UncleanRestart,
    /// The disk of the data folder is nearly full.
    DiskFull,
    /// Work held for power for long.
    PowerHeld,
    /// A running job far past its queue's usual run time.
    LongRunning,
}

impl RuleId {
    pub const ALL: [RuleId; 12] = [
        RuleId::FailureRate,
        RuleId::SuccessRate,
        RuleId::Backlog,
        RuleId::BacklogGrowing,
        RuleId::Stalled,
        RuleId::SlowProcessing,
        RuleId::SuccessBelowBaseline,
        RuleId::WorkerDown,
        RuleId::UncleanRestart,
        RuleId::DiskFull,
        RuleId::PowerHeld,
        RuleId::LongRunning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::FailureRate => "failure_rate",
            RuleId::SuccessRate => "success_rate",
            RuleId::Backlog => "backlog",
            RuleId::BacklogGrowing => "backlog_growing",
            RuleId::Stalled => "stalled",
            RuleId::SlowProcessing => "slow_processing",
            RuleId::SuccessBelowBaseline => "success_below_baseline",
            RuleId::WorkerDown => "worker_down",
            RuleId::UncleanRestart => "unclean_restart",
            RuleId::DiskFull => "disk_full",
            RuleId::PowerHeld => "power_held",
            RuleId::LongRunning => "long_running",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether it is about one queue (else about Nightshift as a whole, or a pool).
    pub fn per_queue(self) -> bool {
        !matches!(
            self,
            RuleId::UncleanRestart | RuleId::DiskFull | RuleId::WorkerDown
        )
    }

    /// The settings the config file may give it besides `enabled`, `threshold`, `for`,
    /// `severity` and `queues`.
    pub fn takes(self) -> &'static [&'static str] {
        match self {
            RuleId::FailureRate | RuleId::SuccessRate => &["window", "min_jobs"],
            RuleId::SlowProcessing => &["window", "min_jobs", "floor"],
            RuleId::SuccessBelowBaseline => &["window", "min_jobs"],
            RuleId::BacklogGrowing | RuleId::Stalled => &["window"],
            RuleId::LongRunning => &["floor"],
            RuleId::Backlog
            | RuleId::WorkerDown
            | RuleId::UncleanRestart
            | RuleId::DiskFull
            | RuleId::PowerHeld => &[],
        }
    }

    /// The rule as it is when the config file says nothing of it.
    pub fn default_rule(self) -> Rule {
        let m = |n: u64| Duration::from_secs(n * 60);
        let (threshold, for_, severity, window, min_jobs, floor) = match self {
            // The documents: an error rate over 20% is critical.
            RuleId::FailureRate => (20.0, m(5), Severity::Critical, m(15), 10, None),
            // The documents: success under 80% is a warning.
            RuleId::SuccessRate => (80.0, m(10), Severity::Warning, m(30), 10, None),
            // The documents: a queue over 50 is worth knowing.
            RuleId::Backlog => (50.0, m(10), Severity::Info, m(0), 0, None),
            RuleId::BacklogGrowing => (100.0, m(5), Severity::Warning, m(15), 0, None),
            RuleId::Stalled => (1.0, m(5), Severity::Warning, m(15), 0, None),
            RuleId::SlowProcessing => (
                0.0,
                m(15),
                Severity::Warning,
                m(60),
                10,
                Some(Duration::from_secs(1)),
            ),
            // Never above 70%, however high the learned mean.
            RuleId::SuccessBelowBaseline => (70.0, m(15), Severity::Warning, m(60), 10, None),
            // Workers still starting count as short: `for` leaves them time to load.
            RuleId::WorkerDown => (1.0, m(2), Severity::Critical, m(0), 0, None),
            RuleId::UncleanRestart => (1.0, m(0), Severity::Warning, m(60), 0, None),
            RuleId::DiskFull => (90.0, m(1), Severity::Critical, m(0), 0, None),
            RuleId::PowerHeld => (1.0, m(120), Severity::Info, m(0), 0, None),
            RuleId::LongRunning => (3.0, m(0), Severity::Warning, m(0), 0, Some(m(10))),
        };
        Rule {
            id: self,
            enabled: true,
            threshold,
            for_,
            severity,
            queues: Vec::new(),
            window,
            min_jobs,
            floor,
        }
    }

    /// The unit of its value and threshold.
    pub fn unit(self) -> Unit {
        match self {
            RuleId::FailureRate
            | RuleId::SuccessRate
            | RuleId::SuccessBelowBaseline
            | RuleId::DiskFull => Unit::Percent,
            RuleId::Backlog | RuleId::BacklogGrowing | RuleId::Stalled | RuleId::PowerHeld => {
                Unit::Jobs
            }
            RuleId::WorkerDown => Unit::Workers,
            RuleId::UncleanRestart => Unit::Processes,
            RuleId::SlowProcessing => Unit::Milliseconds,
            RuleId::LongRunning => Unit::Times,
        }
    }

    /// Whether the condition is a value under the threshold (else over or at it).
    pub fn fires_below(self) -> bool {
        matches!(self, RuleId::SuccessRate | RuleId::SuccessBelowBaseline)
    }

    /// What the threshold means, for `incidents rules` and the docs.
    pub fn meaning(self) -> &'static str {
        match self {
            RuleId::FailureRate => {
                "percent of attempts ended in the window that failed, at or over"
            }
            RuleId::SuccessRate => "percent of jobs finished in the window that succeeded, under",
            RuleId::Backlog => "jobs ready to start, at or over",
            RuleId::BacklogGrowing => "more ready jobs than at the window's start, at or over",
            RuleId::Stalled => {
                "jobs ready with a slot free and nothing started or ended in the window, at or over"
            }
            RuleId::SlowProcessing => {
                "run-time p95 in the window over the learned p95 + 2σ and the floor"
            }
            RuleId::SuccessBelowBaseline => {
                "success rate under the learned mean − 2σ, never above this percent"
            }
            RuleId::WorkerDown => {
                "workers short of the pool's count (or crash-looping), at or over"
            }
            RuleId::UncleanRestart => {
                "processes a Nightshift that did not stop cleanly left, in the window after start-up"
            }
            RuleId::DiskFull => "percent of the data folder's disk in use, at or over",
            RuleId::PowerHeld => "jobs held for power, for the rule's `for`",
            RuleId::LongRunning => "times the queue's usual run time (and over the floor)",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    Jobs,
    Workers,
    Processes,
    Milliseconds,
    /// A multiple ("4.2x").
    Times,
}

impl Unit {
    /// A value in words: "23.5%", "51 jobs", "1.2s", "4.2x".
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Percent => format!("{value:.1}%"),
            Unit::Jobs => format!("{value:.0} jobs"),
            Unit::Workers => format!("{value:.0} workers"),
            Unit::Processes => format!("{value:.0} processes"),
            Unit::Milliseconds => crate::duration::format_short(Duration::from_millis(
                value.clamp(0.0, u64::MAX as f64) as u64,
            )),
            Unit::Times => format!("{value:.1}x"),
        }
    }
}

/// One rule with its settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: RuleId,
    pub enabled: bool,
    /// The line, in the rule's unit (`RuleId::unit`).
    pub threshold: f64,
    /// How long the condition must hold before the incident is active.
    pub for_: Duration,
    pub severity: Severity,
    /// The queues it applies to; empty: every queue.
    pub queues: Vec<String>,
    /// The span its figures are taken over, for the rules that take one.
    pub window: Duration,
    /// Fewer jobs finished in the window than this, and the rate rules say nothing.
    pub min_jobs: u64,
    /// An absolute floor under a learned line (slow processing, long running).
    pub floor: Option<Duration>,
}

impl Rule {
    /// Whether it looks at `queue`.
    pub fn applies_to(&self, queue: &str) -> bool {
        self.enabled && (self.queues.is_empty() || self.queues.iter().any(|q| q == queue))
    }

    /// Whether `value` is past the line.
    pub fn breached(&self, value: f64, line: f64) -> bool {
        if self.id.fires_below() {
            value < line
        } else {
            value >= line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_name_that_parses_back_and_sane_defaults() {
        for id in RuleId::ALL {
            assert_eq!(RuleId::parse(id.as_str()), Some(id));
            let rule = id.default_rule();
            assert!(rule.enabled && rule.threshold >= 0.0, "{id}");
            if id.takes().contains(&"window") {
                assert!(!rule.window.is_zero(), "{id} needs a window");
            }
            assert_eq!(id.takes().contains(&"floor"), rule.floor.is_some(), "{id}");
        }
        assert_eq!(RuleId::parse("nope"), None);
    }

    #[test]
    fn rates_fire_on_their_side_of_the_line() {
        let failures = RuleId::FailureRate.default_rule();
        assert!(failures.breached(20.0, 20.0) && !failures.breached(19.9, 20.0));
        let success = RuleId::SuccessRate.default_rule();
        assert!(success.breached(79.9, 80.0) && !success.breached(80.0, 80.0));
    }
}
