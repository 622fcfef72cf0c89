//! The engine's door for incidents: list and read them, acknowledge, snooze and resolve them
//! (each stored before it is announced, through the same book the evaluator keeps), and each
//! rule with its settings and the values it sees now.

use super::{Learned, apply};
use crate::{EngineError, EngineHandle};
use nightshift_core::incident::baseline::Baseline;
use nightshift_core::incident::lifecycle::Change;
use nightshift_core::incident::{Door, Incident, Rule};
use nightshift_store::IncidentFilter;
use std::collections::BTreeMap;

/// A rule as `incidents rules` shows it: its settings, and per scope the value it saw at the
/// last evaluation (only where its condition held) and the queue's learned baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleNow {
    pub rule: Rule,
    /// Value by scope (queue, pool, or "" for Nightshift as a whole) where the condition held.
    pub values: BTreeMap<String, f64>,
}

impl EngineHandle {
    /// Incidents newest first.
    pub async fn incidents(&self, filter: IncidentFilter) -> Result<Vec<Incident>, EngineError> {
        Ok(self.inner.store.incidents(filter).await?)
    }

    /// One incident with its timeline.
    pub async fn incident(&self, id: i64) -> Result<Incident, EngineError> {
        self.inner
            .store
            .incident(id)
            .await?
            .ok_or(EngineError::NoIncident(id))
    }

    /// Acknowledges an open incident: no more reminders; it stays open until its condition
    /// clears or someone resolves it.
    pub async fn acknowledge_incident(&self, id: i64, door: Door) -> Result<Incident, EngineError> {
        let now = self.now_ms();
        self.act(id, |book| book.acknowledge(id, now, door)).await
    }

    /// Snoozes an open incident until `until` (Unix ms).
    pub async fn snooze_incident(
        &self,
        id: i64,
        until: i64,
        door: Door,
    ) -> Result<Incident, EngineError> {
        let now = self.now_ms();
        self.act(id, |book| book.snooze(id, until, now, door)).await
    }

    /// Resolves an open incident by hand.
    pub async fn resolve_incident(&self, id: i64, door: Door) -> Result<Incident, EngineError> {
        let now = self.now_ms();
        self.act(id, |book| book.resolve(id, now, door)).await
    }

    async fn act(
        &self,
        id: i64,
        action: impl FnOnce(&mut nightshift_core::incident::lifecycle::Book) -> Result<Change, String>,
    ) -> Result<Incident, EngineError> {
        let ctx = &self.inner.ctx;
        if !(ctx.config.incidents.enabled && ctx.config.metrics.enabled) {
            return Err(EngineError::Conflict(
                "incidents are off (incidents.enabled, metrics.enabled in the config file)".into(),
            ));
        }
        super::open_book(ctx).await?;
        let mut book = ctx.incidents.book.lock().await;
        let book = book
            .as_mut()
            .ok_or_else(|| EngineError::Internal("the incidents were not read".into()))?;
        let change = match action(book) {
            Ok(change) => change,
            Err(message) => {
                // No such incident at all is a 404; one that is over, a conflict.
                self.incident(id).await?;
                return Err(EngineError::Conflict(message));
            }
        };
        apply::one(ctx, book, change).await;
        self.incident(id).await
    }

    /// The open incidents that call for the user now (active, not acknowledged, not snoozed),
    /// most severe first.
    pub async fn incidents_needing_attention(&self) -> Vec<Incident> {
        let book = self.inner.ctx.incidents.book.lock().await;
        let now = self.now_ms();
        let mut open: Vec<Incident> = book
            .as_ref()
            .map(|b| {
                b.open()
                    .filter(|i| i.needs_attention(now))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        open.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        open
    }

    /// The open incidents (pending and active), as the book has them.
    pub async fn open_incidents(&self) -> Vec<Incident> {
        let book = self.inner.ctx.incidents.book.lock().await;
        book.as_ref()
            .map(|b| b.open().cloned().collect())
            .unwrap_or_default()
    }

    /// Every rule with its settings and the values it saw at the last evaluation.
    pub fn incident_rules(&self) -> Vec<RuleNow> {
        let state = &self.inner.ctx.incidents;
        let values = crate::locks::lock(&state.values).clone();
        state
            .rules
            .iter()
            .map(|rule| RuleNow {
                rule: rule.clone(),
                values: values
                    .iter()
                    .filter(|((id, _), _)| *id == rule.id)
                    .map(|((_, scope), v)| (scope.clone(), *v))
                    .collect(),
            })
            .collect()
    }

    /// Each queue's learned baseline and usual run time (empty until the first evaluation).
    pub fn baselines(&self) -> BTreeMap<String, (Option<Baseline>, Option<f64>)> {
        crate::locks::lock(&self.inner.ctx.incidents.baselines)
            .1
            .iter()
            .map(|(q, Learned { baseline, usual_ms })| (q.clone(), (*baseline, *usual_ms)))
            .collect()
    }

    /// Evaluates the rules now (tests step a manual clock and call this; the engine does it
    /// after each minute's snapshot and shortly after jobs end).
    pub async fn evaluate_incidents(&self) {
        if self.inner.ctx.config.incidents.enabled && self.inner.ctx.config.metrics.enabled {
            super::evaluate_now(&self.inner.ctx, &self.inner.history_sources).await;
        }
    }
}
