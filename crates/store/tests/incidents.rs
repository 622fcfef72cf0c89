//! Incidents as stored: kept as given with their timelines, one open per rule and scope,
//! pending ones forgotten, and the lifecycle's book read back.

mod common;

use common::open;
use nightshift_core::JobId;
use nightshift_core::incident::{
    Door, EventKind, Incident, IncidentState, RuleId, Severity, TimelineEntry, Unit,
};
use nightshift_store::IncidentFilter;

fn incident(rule: RuleId, queue: &str, state: IncidentState) -> Incident {
    Incident {
        id: 0,
        rule,
        queue: Some(queue.into()),
        pool: None,
        severity: Severity::Critical,
        state,
        title: "mail: 40% of attempts failing".into(),
        description: "4 of the 10 attempts failed".into(),
        action: "read the logs".into(),
        value: 40.0,
        threshold: 20.0,
        unit: Unit::Percent,
        jobs: vec![JobId(3), JobId(2)],
        opened_at: 100,
        active_at: None,
        resolved_at: None,
        acknowledged_at: None,
        snoozed_until: None,
        notified_at: None,
        updated_at: 100,
        timeline: vec![TimelineEntry {
            at: 100,
            kind: EventKind::Opened,
            door: Door::Nightshift,
            value: Some(40.0),
            note: None,
        }],
    }
}

#[tokio::test]
async fn an_incident_is_kept_as_given_with_its_timeline() {
    let (_dir, store) = open();
    let mut i = incident(RuleId::FailureRate, "mail", IncidentState::Pending);
    i.id = store.insert_incident(i.clone()).await.unwrap();
    assert_eq!(store.incident(i.id).await.unwrap().as_ref(), Some(&i));
    i.state = IncidentState::Active;
    i.active_at = Some(200);
    i.acknowledged_at = Some(250);
    i.updated_at = 250;
    let ack = TimelineEntry {
        at: 250,
        kind: EventKind::Acknowledged,
        door: Door::Cli,
        value: None,
        note: Some("on it".into()),
    };
    store
        .update_incident(i.clone(), Some(ack.clone()))
        .await
        .unwrap();
    let read = store.incident(i.id).await.unwrap().unwrap();
    assert_eq!(read.timeline.last(), Some(&ack));
    assert_eq!(
        (read.state, read.acknowledged_at),
        (IncidentState::Active, Some(250))
    );
    // A second open incident for the same rule and queue is refused by the database itself.
    let twin = incident(RuleId::FailureRate, "mail", IncidentState::Pending);
    assert!(store.insert_incident(twin).await.is_err());
    let other = incident(RuleId::FailureRate, "other", IncidentState::Pending);
    let other_id = store.insert_incident(other).await.unwrap();
    // The book: both open; a resolved one once it is resolved.
    let (open_now, recent) = store.incident_book(0).await.unwrap();
    assert_eq!((open_now.len(), recent.len()), (2, 0));
    i.state = IncidentState::Resolved;
    i.resolved_at = Some(300);
    store.update_incident(i.clone(), None).await.unwrap();
    let (open_now, recent) = store.incident_book(0).await.unwrap();
    assert_eq!((open_now.len(), recent[0].id), (1, i.id));
    assert!(store.incident_book(301).await.unwrap().1.is_empty());
    // A pending incident is forgotten; a resolved one is not.
    store.delete_incident(other_id).await.unwrap();
    store.delete_incident(i.id).await.unwrap();
    assert!(store.incident(other_id).await.unwrap().is_none());
    assert!(store.incident(i.id).await.unwrap().is_some());
    let listed = store
        .incidents(IncidentFilter {
            states: vec![IncidentState::Resolved],
            limit: 10,
            ..IncidentFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].timeline.is_empty(), "lists carry no timelines");
}
