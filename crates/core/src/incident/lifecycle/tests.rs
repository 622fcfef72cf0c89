//! The lifecycle with a clock moved by hand: minutes are plain numbers here.

use super::*;
use proptest::prelude::*;

const MIN: i64 = 60_000;

fn finding(value: f64) -> Finding {
    Finding {
        rule: RuleId::FailureRate,
        queue: Some("mail".into()),
        pool: None,
        severity: Severity::Critical,
        value,
        threshold: 20.0,
        unit: Unit::Percent,
        title: "mail: 40% of attempts failed".into(),
        description: format!("{value}% of attempts failed"),
        action: "look at the failures".into(),
        jobs: vec![JobId(7)],
        for_: Duration::from_secs(5 * 60),
    }
}

/// A book in which each opened incident gets the next id, as the store would give.
struct Harness {
    book: Book,
    next: i64,
    s: Settings,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            book: Book::default(),
            next: 1,
            s: Settings::default(),
        }
    }

    fn at(&mut self, minute: i64, findings: Vec<Finding>) -> Vec<Change> {
        let changes = self.book.evaluate(findings, minute * MIN, &self.s);
        for c in &changes {
            if let Change::Opened(i) = c {
                let key = key_of(i);
                self.book.assign(&key, self.next);
                self.next += 1;
            }
        }
        changes
    }

    fn notices(&mut self, minute: i64, findings: Vec<Finding>) -> Vec<Notice> {
        self.at(minute, findings)
            .into_iter()
            .filter_map(|c| match c {
                Change::Updated { notify, .. } => notify,
                Change::Opened(i) if i.state == IncidentState::Active => Some(Notice::Active),
                _ => None,
            })
            .collect()
    }

    fn state(&self) -> Option<IncidentState> {
        self.book.open().next().map(|i| i.state)
    }
}

#[test]
fn a_condition_is_pending_then_active_after_its_for_and_told_once() {
    let mut h = Harness::new();
    let opened = h.at(0, vec![finding(40.0)]);
    assert!(matches!(&opened[..], [Change::Opened(i)] if i.state == IncidentState::Pending));
    assert_eq!(h.notices(4, vec![finding(40.0)]), []);
    assert_eq!(h.state(), Some(IncidentState::Pending));
    assert_eq!(h.notices(5, vec![finding(40.0)]), [Notice::Active]);
    assert_eq!(h.state(), Some(IncidentState::Active));
    assert_eq!(h.notices(6, vec![finding(40.0)]), []);
    let i = h.book.open().next().unwrap();
    assert_eq!((i.id, i.active_at), (1, Some(5 * MIN)));
}

#[test]
fn a_pending_incident_whose_condition_clears_is_dropped_unheard() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    assert_eq!(h.at(2, vec![]), [Change::Dropped(1)]);
    assert_eq!(h.state(), None);
}

#[test]
fn an_active_incident_resolves_after_its_condition_stays_clear_and_not_while_it_flaps() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    // At the line: clear one minute, holding the next, for an hour: never resolved.
    for m in 6..66 {
        let findings = if m % 2 == 0 {
            vec![]
        } else {
            vec![finding(20.0)]
        };
        assert_eq!(h.notices(m, findings), [], "minute {m}");
        assert_eq!(h.state(), Some(IncidentState::Active), "minute {m}");
    }
    // Clear for good: resolved once resolve_after (5 min) has passed, not before.
    h.at(66, vec![]);
    assert_eq!(h.notices(70, vec![]), []);
    assert_eq!(h.notices(71, vec![]), [Notice::Resolved]);
    assert_eq!(h.state(), None);
}

#[test]
fn a_condition_back_within_the_cooldown_reopens_its_incident_and_after_it_opens_another() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    h.at(6, vec![]);
    h.at(11, vec![]);
    assert_eq!(h.state(), None);
    // 10 minutes later (cooldown 30): the same incident, active again at once.
    let changes = h.at(21, vec![finding(50.0)]);
    match &changes[..] {
        [
            Change::Updated {
                incident,
                entry,
                notify,
            },
        ] => {
            assert_eq!(incident.id, 1);
            assert_eq!(incident.state, IncidentState::Active);
            assert_eq!(entry.as_ref().map(|e| e.kind), Some(EventKind::Reopened));
            assert_eq!(*notify, Some(Notice::Reopened));
        }
        other => panic!("{other:?}"),
    }
    h.at(22, vec![]);
    h.at(27, vec![]);
    // Past the cooldown: a new incident, pending again.
    let changes = h.at(27 + 31, vec![finding(50.0)]);
    assert!(matches!(&changes[..], [Change::Opened(i)] if i.state == IncidentState::Pending));
}

#[test]
fn reminders_come_every_repeat_interval_until_acknowledged() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    assert_eq!(h.notices(5 + 239, vec![finding(40.0)]), []);
    assert_eq!(h.notices(5 + 240, vec![finding(40.0)]), [Notice::Reminder]);
    let c = h.book.acknowledge(1, 246 * MIN, Door::Cli).unwrap();
    assert!(matches!(
        c,
        Change::Updated {
            entry: Some(TimelineEntry {
                kind: EventKind::Acknowledged,
                door: Door::Cli,
                ..
            }),
            ..
        }
    ));
    assert!(!h.book.open().next().unwrap().needs_attention(246 * MIN));
    for m in [500, 1000, 5000] {
        assert_eq!(h.notices(m, vec![finding(40.0)]), [], "minute {m}");
    }
    assert_eq!(
        h.state(),
        Some(IncidentState::Active),
        "acknowledged, still open"
    );
}

#[test]
fn a_snooze_silences_until_it_ends_and_then_the_incident_calls_again() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    h.book.snooze(1, 65 * MIN, 6 * MIN, Door::Tray).unwrap();
    assert!(!h.book.open().next().unwrap().needs_attention(30 * MIN));
    assert_eq!(h.notices(30, vec![finding(40.0)]), []);
    assert_eq!(h.notices(65, vec![finding(40.0)]), [Notice::Reminder]);
    assert!(h.book.open().next().unwrap().needs_attention(65 * MIN));
    assert!(
        h.book.snooze(1, 10 * MIN, 66 * MIN, Door::Cli).is_err(),
        "in the past"
    );
}

#[test]
fn resolved_by_hand_while_it_holds_it_stays_resolved_until_the_condition_clears() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    h.book.resolve(1, 6 * MIN, Door::Window).unwrap();
    assert!(h.book.resolve(1, 6 * MIN, Door::Window).is_err());
    for m in 7..20 {
        assert!(h.at(m, vec![finding(40.0)]).is_empty(), "minute {m}");
    }
    h.at(20, vec![]);
    // Cleared, then back within the cooldown: the same incident again.
    let changes = h.at(21, vec![finding(40.0)]);
    assert!(matches!(
        &changes[..],
        [Change::Updated {
            notify: Some(Notice::Reopened),
            ..
        }]
    ));
}

#[test]
fn values_that_move_are_noted_in_the_timeline_and_small_moves_are_not() {
    let mut h = Harness::new();
    h.at(0, vec![finding(40.0)]);
    h.at(5, vec![finding(40.0)]);
    let noted = |changes: Vec<Change>| {
        changes.iter().any(|c| {
            matches!(
                c,
                Change::Updated {
                    entry: Some(TimelineEntry {
                        kind: EventKind::Value,
                        ..
                    }),
                    ..
                }
            )
        })
    };
    assert!(!noted(h.at(6, vec![finding(44.0)])));
    assert!(noted(h.at(7, vec![finding(60.0)])));
    // Nothing changed at all: nothing to write.
    assert!(h.at(8, vec![finding(60.0)]).is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Hold(u8, f64),
    Clear,
    Ack,
    Snooze(u16),
    Resolve,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 0.0f64..100.0).prop_map(|(k, v)| Op::Hold(k, v)),
        Just(Op::Clear),
        Just(Op::Ack),
        (1u16..600).prop_map(Op::Snooze),
        Just(Op::Resolve),
    ]
}

proptest! {
    /// Any sequence of conditions and actions at any times: never two open incidents for one
    /// rule and scope, a resolved one is never open, and nothing panics (times near the ends of
    /// i64 included).
    #[test]
    fn one_open_incident_per_rule_and_scope_whatever_happens(
        ops in proptest::collection::vec((op(), 0i64..120), 1..80),
        start in prop_oneof![Just(0i64), Just(i64::MAX - 10_000_000_000), Just(i64::MIN / 2)],
    ) {
        let mut h = Harness::new();
        let mut now = start;
        for (op, step) in ops {
            now = now.saturating_add(step * MIN);
            let ids: Vec<i64> = h.book.open().map(|i| i.id).collect();
            match op {
                Op::Hold(scope, value) => {
                    let mut f = finding(value);
                    f.queue = Some(format!("q{scope}"));
                    let findings = vec![f];
                    let changes = h.book.evaluate(findings, now, &h.s);
                    for c in &changes {
                        if let Change::Opened(i) = c { let k = key_of(i); h.book.assign(&k, h.next); h.next += 1; }
                    }
                }
                Op::Clear => { h.book.evaluate(vec![], now, &h.s); }
                Op::Ack => for id in ids { h.book.acknowledge(id, now, Door::Api).unwrap(); },
                Op::Snooze(m) => for id in ids { let _ = h.book.snooze(id, now.saturating_add(i64::from(m) * MIN), now, Door::Api); },
                Op::Resolve => for id in ids { h.book.resolve(id, now, Door::Api).unwrap(); },
            }
            let mut keys = std::collections::BTreeSet::new();
            for i in h.book.open() {
                prop_assert!(keys.insert(key_of(i)), "two open for {:?}", key_of(i));
                prop_assert!(i.state != IncidentState::Resolved);
            }
        }
    }
}
