//! `[incidents]` and `[incidents.rules.NAME]`: the lifecycle's timings, where alerts are
//! written, and each rule's settings over its defaults (`incident::rules`).

use crate::duration::{serde_human, serde_human_opt};
use crate::incident::lifecycle::Settings;
use crate::incident::{Rule, RuleId, Severity, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentsConfig {
    /// Off: no rule is evaluated and no incident opens.
    pub enabled: bool,
    /// An active incident resolves once its condition has been clear this long.
    #[serde(with = "serde_human")]
    pub resolve_after: Duration,
    /// The same condition back within this long of its incident's end reopens it.
    #[serde(with = "serde_human")]
    pub cooldown: Duration,
    /// An active incident nobody acknowledged or snoozed is told again this often.
    #[serde(with = "serde_human")]
    pub repeat_interval: Duration,
    /// Every alert is appended to this JSON Lines file (relative: under the data folder).
    pub history_file: PathBuf,
    /// Settings per rule, by rule name.
    pub rules: BTreeMap<String, RuleConfig>,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        let s = Settings::default();
        IncidentsConfig {
            enabled: true,
            resolve_after: s.resolve_after,
            cooldown: s.cooldown,
            repeat_interval: s.repeat_interval,
            history_file: "alerts.jsonl".into(),
            rules: BTreeMap::new(),
        }
    }
}

/// One rule's settings; what is left out keeps its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub enabled: Option<bool>,
    pub threshold: Option<f64>,
    #[serde(default, rename = "for", with = "serde_human_opt")]
    pub for_: Option<Duration>,
    pub severity: Option<Severity>,
    /// The queues it applies to (every queue when left out).
    pub queues: Option<Vec<String>>,
    #[serde(default, with = "serde_human_opt")]
    pub window: Option<Duration>,
    pub min_jobs: Option<u64>,
    #[serde(default, with = "serde_human_opt")]
    pub floor: Option<Duration>,
}

impl IncidentsConfig {
    pub fn settings(&self) -> Settings {
        Settings {
            resolve_after: self.resolve_after,
            cooldown: self.cooldown,
            repeat_interval: self.repeat_interval,
        }
    }

    /// Every rule with its settings in force, in `RuleId::ALL` order.
    pub fn rules(&self) -> Vec<Rule> {
        RuleId::ALL
            .into_iter()
            .map(|id| {
                let mut rule = id.default_rule();
                if let Some(c) = self.rules.get(id.as_str()) {
                    rule.enabled = c.enabled.unwrap_or(rule.enabled);
                    rule.threshold = c.threshold.unwrap_or(rule.threshold);
                    rule.for_ = c.for_.unwrap_or(rule.for_);
                    rule.severity = c.severity.unwrap_or(rule.severity);
                    rule.queues = c.queues.clone().unwrap_or_default();
                    rule.window = c.window.unwrap_or(rule.window);
                    rule.min_jobs = c.min_jobs.unwrap_or(rule.min_jobs);
                    rule.floor = c.floor.or(rule.floor);
                }
                rule
            })
            .collect()
    }

    /// Checks what a type cannot: rule names, the keys each rule takes, and values in range.
    pub(super) fn check(&self) -> Result<(), String> {
        for (key, value) in [
            ("resolve_after", self.resolve_after),
            ("cooldown", self.cooldown),
            ("repeat_interval", self.repeat_interval),
        ] {
            if value > Duration::from_secs(365 * 86400) {
                return Err(format!("incidents.{key} must be at most a year"));
            }
        }
        if self.repeat_interval < Duration::from_secs(60) {
            return Err("incidents.repeat_interval must be at least 1m".into());
        }
        for (name, c) in &self.rules {
            let Some(id) = RuleId::parse(name) else {
                let names: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                return Err(format!(
                    "[incidents.rules.{name}]: there is no rule '{name}'; the rules are {}",
                    names.join(", ")
                ));
            };
            let at = |key: &str| format!("[incidents.rules.{name}] {key}");
            for (key, given) in [
                ("window", c.window.is_some()),
                ("min_jobs", c.min_jobs.is_some()),
                ("floor", c.floor.is_some()),
            ] {
                if given && !id.takes().contains(&key) {
                    return Err(format!(
                        "{}: rule {name} takes no {key} (it takes {})",
                        at(key),
                        if id.takes().is_empty() {
                            "only enabled, threshold, for, severity and queues".to_string()
                        } else {
                            id.takes().join(", ")
                        }
                    ));
                }
            }
            if let Some(t) = c.threshold {
                let top = if id.unit() == Unit::Percent {
                    100.0
                } else {
                    1e12
                };
                if !(0.0..=top).contains(&t) {
                    return Err(format!(
                        "{} must be from 0 to {top} ({})",
                        at("threshold"),
                        id.meaning()
                    ));
                }
            }
            if c.window
                .is_some_and(|w| w.is_zero() || w > Duration::from_secs(7 * 86400))
            {
                return Err(format!(
                    "{} must be longer than zero and at most 7d",
                    at("window")
                ));
            }
            if c.for_.is_some_and(|f| f > Duration::from_secs(30 * 86400)) {
                return Err(format!("{} must be at most 30d", at("for")));
            }
            for queue in c.queues.iter().flatten() {
                crate::job::validate_queue_name(queue)
                    .map_err(|e| format!("{}: {e}", at("queues")))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::incident::{RuleId, Severity};
    use std::time::Duration;

    #[test]
    fn a_rule_table_changes_only_what_it_names() {
        let config = Config::parse(
            "[incidents.rules.failure_rate]\nthreshold = 35\nfor = \"2m\"\nqueues = [\"mail\"]\n\
             [incidents.rules.backlog]\nenabled = false\nseverity = \"warning\"\n",
        )
        .unwrap();
        let rules = config.incidents.rules();
        let failure = &rules[0];
        assert_eq!(failure.id, RuleId::FailureRate);
        assert_eq!(
            (failure.threshold, failure.for_),
            (35.0, Duration::from_secs(120))
        );
        assert_eq!(failure.queues, ["mail"]);
        assert_eq!(failure.window, RuleId::FailureRate.default_rule().window);
        let backlog = rules.iter().find(|r| r.id == RuleId::Backlog).unwrap();
        assert!(!backlog.enabled);
        assert_eq!(backlog.severity, Severity::Warning);
        assert_eq!(rules.len(), RuleId::ALL.len());
    }

    #[test]
    fn bad_rule_tables_are_refused_with_what_is_wrong() {
        let err = |text: &str| Config::parse(text).unwrap_err();
        assert!(
            err("[incidents.rules.nope]\n")
                .contains("there is no rule 'nope'; the rules are failure_rate")
        );
        assert!(
            err("[incidents.rules.disk_full]\nwindow = \"5m\"\n")
                .contains("rule disk_full takes no window")
        );
        assert!(err("[incidents.rules.failure_rate]\nthreshold = 120\n").contains("from 0 to 100"));
        assert!(err("[incidents.rules.failure_rate]\nthreshold = -1\n").contains("threshold"));
        assert!(
            err("[incidents.rules.backlog]\nseverity = \"loud\"\n").contains("unknown variant")
        );
        assert!(err("[incidents.rules.backlog]\nqueues = [\"a b\"]\n").contains("queues"));
        assert!(
            err("[incidents.rules.stalled]\nwindow = \"0s\"\n").contains("window must be longer")
        );
        assert!(err("[incidents]\nrepeat_interval = \"1s\"\n").contains("at least 1m"));
        assert!(err("[incidents.rules.backlog]\nthresold = 3\n").contains("thresold"));
    }
}
