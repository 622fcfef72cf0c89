//! An incident's life, as plain state and a clock: a finding opens it **pending**; held for the
//! rule's `for` it is **active** (the user is told); once its condition has been clear for
//! `resolve_after` it is **resolved** (so a value hovering at the line does not flap), or
//! someone resolves it. A pending one whose condition clears goes without a word. One open
//! incident per rule and scope; a condition that comes back within `cooldown` of its
//! incident's resolution reopens it instead of making another. Acknowledged: no reminders,
//! still open. Snoozed: no reminders and no attention until a time. Reminders come every
//! `repeat_interval` while an active incident calls for attention.
//!
//! `Book::evaluate` takes every finding of one evaluation (a rule and scope not among them is
//! clear) and returns the changes for the engine to store, announce and notify.

use super::{Door, EventKind, Incident, IncidentState, Severity, TimelineEntry};
use crate::JobId;
use crate::incident::{RuleId, Unit};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One rule's condition holding for one scope at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    pub queue: Option<String>,
    pub pool: Option<String>,
    pub severity: Severity,
    pub value: f64,
    pub threshold: f64,
    pub unit: Unit,
    pub title: String,
    pub description: String,
    pub action: String,
    pub jobs: Vec<JobId>,
    /// The rule's `for`.
    pub for_: Duration,
}

impl Finding {
    pub fn key(&self) -> Key {
        (
            self.rule,
            self.pool
                .clone()
                .or_else(|| self.queue.clone())
                .unwrap_or_default(),
        )
    }
}

/// A rule and its scope (the queue, the pool, or "" for Nightshift as a whole).
pub type Key = (RuleId, String);

/// The lifecycle's settings (`[incidents]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub resolve_after: Duration,
    pub cooldown: Duration,
    pub repeat_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resolve_after: Duration::from_secs(5 * 60),
            cooldown: Duration::from_secs(30 * 60),
            repeat_interval: Duration::from_secs(4 * 3600),
        }
    }
}

/// What an evaluation or an action changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new incident (its id 0 until stored: `Book::assign`).
    Opened(Incident),
    /// The incident's stored fields changed; `entry` goes into its timeline, if any. `notify`:
    /// the user is told now (it became active, came back, its snooze ended, or a reminder).
    Updated {
        incident: Incident,
        entry: Option<TimelineEntry>,
        notify: Option<Notice>,
    },
    /// A pending incident whose condition cleared: never told, forgotten.
    Dropped(i64),
}

/// Why the user is told.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Active,
    Reopened,
    Reminder,
    Resolved,
}

impl Notice {
    /// The alert's name in the history file and the webhook body.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Active => "active",
            Notice::Reopened => "reopened",
            Notice::Reminder => "reminder",
            Notice::Resolved => "resolved",
        }
    }
}

/// Values must move by this share before the timeline notes it.
const VALUE_STEP: f64 = 0.2;
/// Value entries one incident's timeline keeps at most.
const MAX_VALUE_ENTRIES: u32 = 50;

#[derive(Debug, Default)]
struct Track {
    /// The condition was last seen clear since then.
    clear_since: Option<i64>,
    /// The value last written into the timeline.
    logged: Option<f64>,
    value_entries: u32,
}

/// Open incidents and the recently resolved, by rule and scope.
#[derive(Debug, Default)]
pub struct Book {
    open: BTreeMap<Key, Incident>,
    /// Resolved within the cooldown: the same condition reopens them.
    recent: BTreeMap<Key, Incident>,
    tracks: BTreeMap<Key, Track>,
    /// Resolved by hand while the condition held: nothing opens again until it clears.
    rearm: BTreeSet<Key>,
}

fn key_of(i: &Incident) -> Key {
    (
        i.rule,
        i.pool
            .clone()
            .or_else(|| i.queue.clone())
            .unwrap_or_default(),
    )
}

impl Book {
    /// A book from what the store holds: the open incidents and those resolved lately.
    pub fn new(open: Vec<Incident>, recent: Vec<Incident>) -> Book {
        let mut book = Book::default();
        for i in recent {
            book.recent.insert(key_of(&i), i);
        }
        for i in open {
            book.open.insert(key_of(&i), i);
        }
        book
    }

    /// Open incidents (pending and active).
    pub fn open(&self) -> impl Iterator<Item = &Incident> {
        self.open.values()
    }

    /// Gives the incident opened for `key` its stored id.
    pub fn assign(&mut self, key: &Key, id: i64) {
        if let Some(i) = self.open.get_mut(key) {
            i.id = id;
        }
    }

    /// One evaluation at `now`: `findings` are the conditions that hold; every other rule and
    /// scope is clear.
    pub fn evaluate(&mut self, findings: Vec<Finding>, now: i64, s: &Settings) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut holding = BTreeSet::new();
        for f in findings {
            let key = f.key();
            holding.insert(key.clone());
            if self.rearm.contains(&key) {
                continue;
            }
            let track = self.tracks.entry(key.clone()).or_default();
            track.clear_since = None;
            if let Some(open) = self.open.get_mut(&key) {
                if let Some(change) = hold(open, track, &f, now) {
                    changes.push(change);
                }
                continue;
            }
            let back = self.recent.remove(&key).filter(|r| {
                r.resolved_at
                    .is_some_and(|at| now.saturating_sub(at) <= ms(s.cooldown))
            });
            match back {
                Some(mut incident) => {
                    refresh(&mut incident, &f, now);
                    incident.state = IncidentState::Active;
                    incident.resolved_at = None;
                    incident.acknowledged_at = None;
                    incident.snoozed_until = None;
                    incident.notified_at = Some(now);
                    track.logged = Some(f.value);
                    let entry = entry(now, EventKind::Reopened, Door::Nightshift, Some(f.value));
                    self.open.insert(key, incident.clone());
                    changes.push(Change::Updated {
                        incident,
                        entry: Some(entry),
                        notify: Some(Notice::Reopened),
                    });
                }
                None => {
                    let mut incident = Incident {
                        id: 0,
                        rule: f.rule,
                        queue: f.queue.clone(),
                        pool: f.pool.clone(),
                        severity: f.severity,
                        state: IncidentState::Pending,
                        title: String::new(),
                        description: String::new(),
                        action: String::new(),
                        value: f.value,
                        threshold: f.threshold,
                        unit: f.unit,
                        jobs: Vec::new(),
                        opened_at: now,
                        active_at: None,
                        resolved_at: None,
                        acknowledged_at: None,
                        snoozed_until: None,
                        notified_at: None,
                        updated_at: now,
                        timeline: vec![entry(
                            now,
                            EventKind::Opened,
                            Door::Nightshift,
                            Some(f.value),
                        )],
                    };
                    refresh(&mut incident, &f, now);
                    track.logged = Some(f.value);
                    track.value_entries = 0;
                    // A rule with no `for` is active at once.
                    if f.for_.is_zero() {
                        activate(&mut incident, now);
                        incident.timeline.push(entry(
                            now,
                            EventKind::Active,
                            Door::Nightshift,
                            Some(f.value),
                        ));
                    }
                    self.open.insert(key, incident.clone());
                    changes.push(Change::Opened(incident));
                }
            }
        }
        // The rest is clear.
        self.rearm.retain(|k| holding.contains(k));
        let clear: Vec<Key> = self
            .open
            .keys()
            .filter(|k| !holding.contains(*k))
            .cloned()
            .collect();
        for key in clear {
            let track = self.tracks.entry(key.clone()).or_default();
            let since = *track.clear_since.get_or_insert(now);
            let Some(open) = self.open.get(&key) else {
                continue;
            };
            if open.state == IncidentState::Pending {
                let open = self.open.remove(&key).expect("open incident");
                self.tracks.remove(&key);
                changes.push(Change::Dropped(open.id));
            } else if now.saturating_sub(since) >= ms(s.resolve_after) {
                let mut incident = self.open.remove(&key).expect("open incident");
                self.tracks.remove(&key);
                resolve(&mut incident, now);
                let entry = entry(now, EventKind::Resolved, Door::Nightshift, None);
                self.recent.insert(key, incident.clone());
                changes.push(Change::Updated {
                    incident,
                    entry: Some(entry),
                    notify: Some(Notice::Resolved),
                });
            }
        }
        self.recent.retain(|_, r| {
            r.resolved_at
                .is_some_and(|at| now.saturating_sub(at) <= ms(s.cooldown))
        });
        // Snoozes that ran out, and reminders.
        for open in self.open.values_mut() {
            if open.snoozed_until.is_some_and(|until| until <= now) {
                open.snoozed_until = None;
                open.updated_at = now;
                let calls = open.needs_attention(now);
                if calls {
                    open.notified_at = Some(now);
                }
                changes.push(Change::Updated {
                    incident: open.clone(),
                    entry: Some(entry(now, EventKind::SnoozeEnded, Door::Nightshift, None)),
                    notify: calls.then_some(Notice::Reminder),
                });
            } else if open.needs_attention(now)
                && open
                    .notified_at
                    .is_none_or(|at| now.saturating_sub(at) >= ms(s.repeat_interval))
            {
                open.notified_at = Some(now);
                open.updated_at = now;
                changes.push(Change::Updated {
                    incident: open.clone(),
                    entry: None,
                    notify: Some(Notice::Reminder),
                });
            }
        }
        changes
    }

    /// Acknowledges the open incident `id`: it stays open, with no more reminders.
    pub fn acknowledge(&mut self, id: i64, now: i64, door: Door) -> Result<Change, String> {
        let incident = self.open_mut(id)?;
        if incident.acknowledged_at.is_none() {
            incident.acknowledged_at = Some(now);
            incident.updated_at = now;
        }
        Ok(Change::Updated {
            incident: incident.clone(),
            entry: Some(entry(now, EventKind::Acknowledged, door, None)),
            notify: None,
        })
    }

    /// Snoozes the open incident `id` until `until`: no reminders and no attention till then.
    pub fn snooze(&mut self, id: i64, until: i64, now: i64, door: Door) -> Result<Change, String> {
        if until <= now {
            return Err("a snooze must end in the future".into());
        }
        let incident = self.open_mut(id)?;
        incident.snoozed_until = Some(until);
        incident.updated_at = now;
        let note = crate::timestamp::format(until);
        Ok(Change::Updated {
            incident: incident.clone(),
            entry: Some(TimelineEntry {
                note: Some(format!("until {note}")),
                ..entry(now, EventKind::Snoozed, door, None)
            }),
            notify: None,
        })
    }

    /// Resolves the open incident `id` by hand. While its condition still holds no new one
    /// opens for its rule and scope: it must clear first.
    pub fn resolve(&mut self, id: i64, now: i64, door: Door) -> Result<Change, String> {
        let key = self
            .open
            .iter()
            .find(|(_, i)| i.id == id)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| not_open(id))?;
        let mut incident = self.open.remove(&key).expect("open incident");
        let holding = self
            .tracks
            .remove(&key)
            .is_some_and(|t| t.clear_since.is_none());
        if holding {
            self.rearm.insert(key.clone());
        }
        resolve(&mut incident, now);
        self.recent.insert(key, incident.clone());
        // Told like a resolution by itself: receivers that heard of it hear of its end.
        Ok(Change::Updated {
            incident,
            entry: Some(entry(now, EventKind::Resolved, door, None)),
            notify: Some(Notice::Resolved),
        })
    }

    fn open_mut(&mut self, id: i64) -> Result<&mut Incident, String> {
        self.open
            .values_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| not_open(id))
    }
}

fn not_open(id: i64) -> String {
    format!("incident {id} is not open (it is resolved, or there is no such incident)")
}

/// The condition still holds for an open incident: activate it after its `for`, and note its
/// value when it moved.
fn hold(open: &mut Incident, track: &mut Track, f: &Finding, now: i64) -> Option<Change> {
    let before = open.clone();
    refresh(open, f, now);
    let mut notify = None;
    let mut entry_now = None;
    if open.state == IncidentState::Pending && now.saturating_sub(open.opened_at) >= ms(f.for_) {
        activate(open, now);
        notify = Some(Notice::Active);
        entry_now = Some(entry(
            now,
            EventKind::Active,
            Door::Nightshift,
            Some(f.value),
        ));
        track.logged = Some(f.value);
    } else if moved(track.logged, f.value) && track.value_entries < MAX_VALUE_ENTRIES {
        track.logged = Some(f.value);
        track.value_entries += 1;
        entry_now = Some(entry(
            now,
            EventKind::Value,
            Door::Nightshift,
            Some(f.value),
        ));
    }
    let same = Incident {
        updated_at: before.updated_at,
        ..open.clone()
    } == before;
    if same && entry_now.is_none() {
        // Nothing to write: the stored row stays as it is.
        open.updated_at = before.updated_at;
        return None;
    }
    Some(Change::Updated {
        incident: open.clone(),
        entry: entry_now,
        notify,
    })
}

fn moved(logged: Option<f64>, value: f64) -> bool {
    match logged {
        None => true,
        Some(last) => (value - last).abs() >= VALUE_STEP * last.abs().max(1.0),
    }
}

fn refresh(i: &mut Incident, f: &Finding, now: i64) {
    i.severity = f.severity;
    i.title = f.title.clone();
    i.description = f.description.clone();
    i.action = f.action.clone();
    i.value = f.value;
    i.threshold = f.threshold;
    i.unit = f.unit;
    i.jobs = f.jobs.iter().copied().take(super::MAX_AFFECTED).collect();
    i.updated_at = now;
}

fn activate(i: &mut Incident, now: i64) {
    i.state = IncidentState::Active;
    i.active_at = Some(now);
    i.notified_at = Some(now);
    i.updated_at = now;
}

fn resolve(i: &mut Incident, now: i64) {
    i.state = IncidentState::Resolved;
    i.resolved_at = Some(now);
    i.updated_at = now;
}

fn entry(at: i64, kind: EventKind, door: Door, value: Option<f64>) -> TimelineEntry {
    TimelineEntry {
        at,
        kind,
        door,
        value,
        note: None,
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
