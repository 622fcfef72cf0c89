//! The lifecycle's changes made real: stored (a new incident gets its id), then announced to
//! listeners (`Event::Incident`: the tray, the window, notifications, webhooks) and, when the
//! user is told, appended to the alert history. A change the database refuses is logged and
//! left: the book is read again from the store at the next start, and the next evaluation
//! produces the change again while its condition holds.

use super::alerts;
use crate::Event;
use crate::context::Context;
use nightshift_core::incident::Door;
use nightshift_core::incident::lifecycle::{Book, Change};

pub(super) async fn all(ctx: &Context, book: &mut Book, changes: Vec<Change>) {
    for change in changes {
        one(ctx, book, change).await;
    }
}

pub(super) async fn one(ctx: &Context, book: &mut Book, change: Change) {
    match change {
        Change::Opened(mut incident) => {
            let key = (
                incident.rule,
                incident
                    .pool
                    .clone()
                    .or_else(|| incident.queue.clone())
                    .unwrap_or_default(),
            );
            match ctx.store.insert_incident(incident.clone()).await {
                Ok(id) => {
                    book.assign(&key, id);
                    incident.id = id;
                    let notice = (incident.state
                        == nightshift_core::incident::IncidentState::Active)
                        .then_some(nightshift_core::incident::lifecycle::Notice::Active);
                    announce(ctx, incident, notice, Door::Nightshift).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, rule = %incident.rule, "cannot store a new incident")
                }
            }
        }
        Change::Updated {
            incident,
            entry,
            notify,
        } => {
            let door = entry.as_ref().map_or(Door::Nightshift, |e| e.door);
            match ctx.store.update_incident(incident.clone(), entry).await {
                Ok(()) => announce(ctx, incident, notify, door).await,
                Err(e) => {
                    tracing::warn!(error = %e, id = incident.id, "cannot store an incident's change")
                }
            }
        }
        Change::Dropped(id) => {
            if let Err(e) = ctx.store.delete_incident(id).await {
                tracing::warn!(error = %e, id, "cannot forget a pending incident");
            }
            let _ = ctx.events.send(Event::IncidentDropped { id });
        }
    }
}

async fn announce(
    ctx: &Context,
    incident: nightshift_core::incident::Incident,
    notice: Option<nightshift_core::incident::lifecycle::Notice>,
    door: Door,
) {
    if let Some(notice) = notice {
        alerts::append(ctx, &incident, notice).await;
        tracing::info!(id = incident.id, rule = %incident.rule, ?notice, title = incident.title, "incident");
    }
    let _ = ctx.events.send(Event::Incident {
        incident: Box::new(incident),
        notice,
        door,
    });
}
