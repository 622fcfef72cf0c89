//! The JSON body of an alert: `text` for chat receivers (Slack-style incoming webhooks show
//! it), and the whole incident under `nightshift` for programs. Documented in
//! docs/incidents.md.

use nightshift_core::incident::Incident;
use nightshift_core::incident::lifecycle::Notice;
use serde_json::json;

/// The body for `incident` told as `notice` at `at` (Unix ms).
pub fn body(incident: &Incident, notice: Notice, at: i64) -> String {
    let mut listed = incident.clone();
    listed.timeline.clear();
    let head = match notice {
        Notice::Resolved => "RESOLVED".to_string(),
        Notice::Reopened => format!("{} (again)", incident.severity.as_str().to_uppercase()),
        Notice::Reminder => format!("{} (still)", incident.severity.as_str().to_uppercase()),
        Notice::Active => incident.severity.as_str().to_uppercase(),
    };
    let text = match notice {
        Notice::Resolved => format!("[{head}] {}", incident.title),
        _ => format!(
            "[{head}] {}\n{}\nWhat to do: {}",
            incident.title, incident.description, incident.action
        ),
    };
    json!({
        "text": text,
        "nightshift": {
            "alert": notice.as_str(),
            "at": at,
            "incident": listed,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nightshift_core::JobId;
    use nightshift_core::incident::{IncidentState, RuleId, Severity, Unit};

    fn incident() -> Incident {
        Incident {
            id: 4,
            rule: RuleId::FailureRate,
            queue: Some("mail".into()),
            pool: None,
            severity: Severity::Critical,
            state: IncidentState::Active,
            title: "mail: 40.0% of attempts failing".into(),
            description: "4 of the 10 attempts failed.".into(),
            action: "Read the logs.".into(),
            value: 40.0,
            threshold: 20.0,
            unit: Unit::Percent,
            jobs: vec![JobId(9)],
            opened_at: 1,
            active_at: Some(2),
            resolved_at: None,
            acknowledged_at: None,
            snoozed_until: None,
            notified_at: Some(2),
            updated_at: 2,
            timeline: Vec::new(),
        }
    }

    #[test]
    fn the_body_has_text_for_chats_and_the_incident_for_programs() {
        let v: serde_json::Value =
            serde_json::from_str(&body(&incident(), Notice::Active, 7)).unwrap();
        assert_eq!(
            v["text"],
            "[CRITICAL] mail: 40.0% of attempts failing\n4 of the 10 attempts failed.\nWhat to do: Read the logs."
        );
        assert_eq!(v["nightshift"]["alert"], "active");
        assert_eq!(v["nightshift"]["incident"]["id"], 4);
        assert_eq!(v["nightshift"]["incident"]["jobs"][0], 9);
        let v: serde_json::Value =
            serde_json::from_str(&body(&incident(), Notice::Resolved, 7)).unwrap();
        assert_eq!(v["text"], "[RESOLVED] mail: 40.0% of attempts failing");
    }
}
