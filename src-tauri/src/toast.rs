//! What a notification says: one toast for one event, one summary for a burst. Pure, so the
//! wording and the coalescing are tested without a notification server.

use nightshift_api::Notice;
use nightshift_core::{JobId, JobState};

/// An event worth telling the user about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notable {
    /// A job failed for good (no attempts left).
    Failed { id: JobId, reason: Option<String> },
    /// A job added with `--notify` ended (and did not fail).
    Finished { id: JobId, state: JobState },
    /// Start-up found jobs a killed instance left running.
    Recovered { requeued: usize, failed: usize },
    /// Power came back: jobs it held started, jobs it paused continue.
    PowerResumed { started: usize, continued: usize },
    /// The user is told of an incident: it became active, came back, a reminder, or it
    /// resolved by itself.
    Incident {
        id: i64,
        title: String,
        description: String,
        critical: bool,
        notice: Notice,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub summary: String,
    pub body: String,
    /// Failures deserve the urgent style.
    pub urgent: bool,
    /// The one open incident the toast is about: its Open and Acknowledge actions act on it.
    pub incident: Option<i64>,
}

/// Ids listed in a summary before "and N more".
const LISTED: usize = 5;

fn list(ids: &[JobId]) -> String {
    let shown: Vec<String> = ids.iter().take(LISTED).map(|id| id.to_string()).collect();
    let more = ids.len().saturating_sub(LISTED);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Composes one toast for a batch gathered within the coalescing window. `command` is the
/// command of the job when the batch is about a single job. Incidents lead: a failure storm
/// and the incident it opened are one toast, the incident's, with the failures as a line.
pub fn compose(batch: &[Notable], command: Option<&str>) -> Option<Toast> {
    let incidents: Vec<(i64, &str, &str, bool, Notice)> = batch
        .iter()
        .filter_map(|n| match n {
            Notable::Incident {
                id,
                title,
                description,
                critical,
                notice,
            } => Some((
                *id,
                title.as_str(),
                description.as_str(),
                *critical,
                *notice,
            )),
            _ => None,
        })
        .collect();
    let jobs = compose_jobs(batch, command);
    if incidents.is_empty() {
        return jobs;
    }
    let open = incidents.iter().filter(|i| i.4 != Notice::Resolved).count();
    let (summary, mut lines, incident) = match incidents.as_slice() {
        [(id, title, description, _, notice)] => {
            let head = match notice {
                Notice::Active => "Incident",
                Notice::Reopened => "Incident again",
                Notice::Reminder => "Still open",
                Notice::Resolved => "Resolved",
            };
            (
                format!("{head}: {title}"),
                vec![description.to_string()],
                (*notice != Notice::Resolved).then_some(*id),
            )
        }
        many => {
            let summary = if open > 0 {
                format!("{} need you", plural(open, "incident", "incidents"))
            } else {
                format!("{} resolved", plural(many.len(), "incident", "incidents"))
            };
            let lines = many
                .iter()
                .take(LISTED)
                .map(|(_, title, _, _, notice)| {
                    if *notice == Notice::Resolved {
                        format!("Resolved: {title}")
                    } else {
                        title.to_string()
                    }
                })
                .collect();
            (summary, lines, None)
        }
    };
    let mut urgent = incidents.iter().any(|i| i.3 && i.4 != Notice::Resolved);
    if let Some(jobs) = jobs {
        lines.push(if jobs.body.is_empty() {
            jobs.summary
        } else {
            format!("{}: {}", jobs.summary, jobs.body.replace('\n', "; "))
        });
        urgent |= jobs.urgent;
    }
    Some(Toast {
        summary,
        body: lines.join("\n"),
        urgent,
        incident,
    })
}

/// The toast of a batch's jobs, recovery and power, without its incidents.
fn compose_jobs(batch: &[Notable], command: Option<&str>) -> Option<Toast> {
    let failed: Vec<JobId> = batch
        .iter()
        .filter_map(|n| match n {
            Notable::Failed { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let finished: Vec<(JobId, JobState)> = batch
        .iter()
        .filter_map(|n| match n {
            Notable::Finished { id, state } => Some((*id, *state)),
            _ => None,
        })
        .collect();
    let (requeued, lost) = batch.iter().fold((0, 0), |(r, f), n| match n {
        Notable::Recovered { requeued, failed } => (r + requeued, f + failed),
        _ => (r, f),
    });
    let recovered = (requeued + lost > 0).then(|| {
        format!(
            "Recovered after an unclean stop: {} queued again, {} failed",
            plural(requeued, "job", "jobs"),
            lost
        )
    });
    let (started, continued) = batch.iter().fold((0, 0), |(s, c), n| match n {
        Notable::PowerResumed { started, continued } => (s + started, c + continued),
        _ => (s, c),
    });
    let power = (started + continued > 0).then(|| {
        let mut parts = Vec::new();
        if started > 0 {
            parts.push(format!(
                "{} that waited for it started",
                plural(started, "job", "jobs")
            ));
        }
        if continued > 0 {
            parts.push(format!(
                "{} it paused {}",
                plural(continued, "job", "jobs"),
                if continued == 1 { "goes on" } else { "go on" }
            ));
        }
        format!("Power is back: {}", parts.join(", "))
    });
    // Recovery and power lines go with whatever else the toast says.
    let recovered = match (recovered, power) {
        (Some(r), Some(p)) => Some(format!("{r}\n{p}")),
        (r, p) => r.or(p),
    };
    let jobs = failed.len() + finished.len();
    let toast = match (jobs, batch.first()?) {
        (0, _) => Toast {
            summary: if requeued + lost > 0 {
                "Nightshift recovered".into()
            } else {
                "Held work goes on".into()
            },
            body: recovered?,
            urgent: lost > 0,
            incident: None,
        },
        (1, _) if failed.len() == 1 => {
            let reason = batch.iter().find_map(|n| match n {
                Notable::Failed { reason, .. } => reason.clone(),
                _ => None,
            });
            let body = [command.map(str::to_string), reason, recovered]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            Toast {
                summary: format!("Job {} failed", failed[0]),
                body,
                urgent: true,
                incident: None,
            }
        }
        (1, _) => {
            let (id, state) = finished[0];
            let word = match state {
                JobState::Cancelled => "was cancelled",
                _ => "finished",
            };
            let body = [command.map(str::to_string), recovered]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            Toast {
                summary: format!("Job {id} {word}"),
                body,
                urgent: false,
                incident: None,
            }
        }
        _ => {
            let mut parts = Vec::new();
            if !failed.is_empty() {
                parts.push(format!("{} failed", plural(failed.len(), "job", "jobs")));
            }
            if !finished.is_empty() {
                parts.push(format!(
                    "{} finished",
                    plural(finished.len(), "job", "jobs")
                ));
            }
            let mut lines = Vec::new();
            if !failed.is_empty() {
                lines.push(format!("Failed: {}", list(&failed)));
            }
            if !finished.is_empty() {
                let ids: Vec<JobId> = finished.iter().map(|(id, _)| *id).collect();
                lines.push(format!("Finished: {}", list(&ids)));
            }
            lines.extend(recovered);
            Toast {
                summary: parts.join(", "),
                body: lines.join("\n"),
                urgent: !failed.is_empty(),
                incident: None,
            }
        }
    };
    Some(toast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(id: i64) -> Notable {
        Notable::Failed {
            id: JobId(id),
            reason: Some("exited with code 1".into()),
        }
    }

    #[test]
    fn one_failure_names_the_job_its_command_and_why() {
        let t = compose(&[failed(42)], Some("make test")).unwrap();
        assert_eq!(t.summary, "Job 42 failed");
        assert_eq!(t.body, "make test\nexited with code 1");
        assert!(t.urgent);
    }

    #[test]
    fn a_burst_is_one_summary() {
        let batch: Vec<Notable> = (1..=100).map(failed).collect();
        let t = compose(&batch, None).unwrap();
        assert_eq!(t.summary, "100 jobs failed");
        assert_eq!(t.body, "Failed: 1, 2, 3, 4, 5 and 95 more");
    }

    fn incident(id: i64, notice: Notice) -> Notable {
        Notable::Incident {
            id,
            title: format!("mail: incident {id}"),
            description: "40% of attempts failed".into(),
            critical: true,
            notice,
        }
    }

    #[test]
    fn a_failure_storm_and_its_incident_are_one_toast_that_leads_with_the_incident() {
        let mut batch: Vec<Notable> = (1..=30).map(failed).collect();
        batch.push(incident(4, Notice::Active));
        let t = compose(&batch, None).unwrap();
        assert_eq!(t.summary, "Incident: mail: incident 4");
        assert_eq!(
            t.body,
            "40% of attempts failed\n30 jobs failed: Failed: 1, 2, 3, 4, 5 and 25 more"
        );
        assert!(t.urgent);
        assert_eq!(t.incident, Some(4), "its actions act on it");
    }

    #[test]
    fn incidents_resolved_and_several_at_once_have_their_own_words() {
        let t = compose(&[incident(4, Notice::Resolved)], None).unwrap();
        assert_eq!(t.summary, "Resolved: mail: incident 4");
        assert!(!t.urgent);
        assert_eq!(t.incident, None, "nothing to acknowledge");
        let t = compose(
            &[incident(4, Notice::Active), incident(5, Notice::Reminder)],
            None,
        )
        .unwrap();
        assert_eq!(t.summary, "2 incidents need you");
        assert_eq!(t.body, "mail: incident 4\nmail: incident 5");
        assert_eq!(t.incident, None);
        let t = compose(&[incident(6, Notice::Reopened)], None).unwrap();
        assert_eq!(t.summary, "Incident again: mail: incident 6");
    }

    #[test]
    fn mixed_batches_count_each_kind() {
        let batch = vec![
            failed(1),
            Notable::Finished {
                id: JobId(2),
                state: JobState::Succeeded,
            },
            Notable::Recovered {
                requeued: 3,
                failed: 1,
            },
        ];
        let t = compose(&batch, None).unwrap();
        assert_eq!(t.summary, "1 job failed, 1 job finished");
        assert!(
            t.body
                .ends_with("Recovered after an unclean stop: 3 jobs queued again, 1 failed"),
            "{}",
            t.body
        );
    }

    #[test]
    fn power_coming_back_says_what_goes_on() {
        let toast = compose(
            &[Notable::PowerResumed {
                started: 3,
                continued: 1,
            }],
            None,
        )
        .unwrap();
        assert_eq!(toast.summary, "Held work goes on");
        assert_eq!(
            toast.body,
            "Power is back: 3 jobs that waited for it started, 1 job it paused goes on"
        );
        assert!(!toast.urgent);
        // Alongside a failure it is one more line of the same toast.
        let toast = compose(
            &[
                failed(7),
                Notable::PowerResumed {
                    started: 1,
                    continued: 0,
                },
            ],
            Some("make"),
        )
        .unwrap();
        assert_eq!(toast.summary, "Job 7 failed");
        assert!(
            toast
                .body
                .ends_with("Power is back: 1 job that waited for it started"),
            "{}",
            toast.body
        );
    }

    #[test]
    fn recovery_alone_and_notify_jobs_have_their_own_words() {
        let t = compose(
            &[Notable::Recovered {
                requeued: 2,
                failed: 0,
            }],
            None,
        )
        .unwrap();
        assert_eq!(t.summary, "Nightshift recovered");
        assert!(!t.urgent);
        let t = compose(
            &[Notable::Finished {
                id: JobId(7),
                state: JobState::Succeeded,
            }],
            Some("backup"),
        )
        .unwrap();
        assert_eq!(
            (t.summary.as_str(), t.body.as_str()),
            ("Job 7 finished", "backup")
        );
        assert!(compose(&[], None).is_none());
    }
}
