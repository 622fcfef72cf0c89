//! `incidents [ls|show|ack|snooze|resolve|rules]`.

use crate::args::{IncidentCommand, IncidentLsArgs, IncidentsArgs, JsonArgs};
use crate::client::{Client, encode};
use crate::format::{age, table};
use crate::out::outln;
use nightshift_api::{
    DurationValue, Incident, IncidentAction, IncidentDetail, IncidentState, RulesView, Unit,
};
use std::process::ExitCode;

pub fn run(args: IncidentsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        None => list(args.ls),
        Some(IncidentCommand::Ls(ls)) => list(ls),
        Some(IncidentCommand::Show(a)) => {
            let detail: IncidentDetail =
                Client::connect()?.get(&format!("/api/incidents/{}", a.id))?;
            if a.json {
                crate::format::print_json(&detail)?;
                return Ok(ExitCode::SUCCESS);
            }
            show(&detail.incident)?;
            deliveries(&detail)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(IncidentCommand::Ack(a)) => act(a.id, "acknowledge", None, a.json),
        Some(IncidentCommand::Resolve(a)) => act(a.id, "resolve", None, a.json),
        Some(IncidentCommand::Snooze(a)) => {
            let ms = u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX);
            act(a.id, "snooze", Some(DurationValue::Millis(ms)), a.json)
        }
        Some(IncidentCommand::Rules(a)) => rules(a),
    }
}

fn list(args: IncidentLsArgs) -> anyhow::Result<ExitCode> {
    let mut path = format!("/api/incidents?state={}&limit={}", args.state, args.limit);
    if let Some(q) = &args.queue {
        path.push_str(&format!("&queue={}", encode(q)));
    }
    let incidents: Vec<Incident> = Client::connect()?.get(&path)?;
    if args.json {
        crate::format::print_json(&incidents)?;
        return Ok(ExitCode::SUCCESS);
    }
    if incidents.is_empty() {
        outln!(
            "no {} incidents",
            if args.state == "all" { "" } else { &args.state }
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = incidents
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.severity.as_str().into(),
                status(i),
                i.rule.as_str().into(),
                age(i.opened_at),
                i.title.clone(),
            ]
        })
        .collect();
    table(
        &["ID", "SEVERITY", "STATE", "RULE", "OPENED", "TITLE"],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// "active", "active, acknowledged", "active, snoozed", "pending", "resolved".
fn status(i: &Incident) -> String {
    let mut s = i.state.as_str().to_string();
    if i.state != IncidentState::Resolved {
        if i.acknowledged_at.is_some() {
            s.push_str(", acknowledged");
        }
        if i.snoozed_until.is_some_and(|u| u > crate::format::now_ms()) {
            s.push_str(", snoozed");
        }
    }
    s
}

fn act(id: i64, action: &str, for_: Option<DurationValue>, json: bool) -> anyhow::Result<ExitCode> {
    let door = Some(nightshift_api::Door::Cli);
    let path = format!("/api/incidents/{id}/{action}");
    let client = Client::connect()?;
    let incident: Incident = match for_ {
        Some(for_) => client.post(&path, &nightshift_api::SnoozeRequest { for_, door })?,
        None => client.post(&path, &IncidentAction { door })?,
    };
    print(&incident, json, |i| {
        let done = match action {
            "acknowledge" => {
                "acknowledged: no more reminders; it stays open until it resolves".to_string()
            }
            "resolve" => "resolved".to_string(),
            _ => format!(
                "snoozed until {}",
                i.snoozed_until
                    .map_or("-".into(), nightshift_core::timestamp::format)
            ),
        };
        outln!("incident {}: {done}", i.id)?;
        Ok(())
    })
}

fn print(
    incident: &Incident,
    json: bool,
    human: impl FnOnce(&Incident) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    if json {
        crate::format::print_json(incident)?;
    } else {
        human(incident)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(i: &Incident) -> anyhow::Result<()> {
    let field = |k: &str, v: String| outln!("{k:<13}{v}");
    field("incident", format!("{} ({})", i.id, i.title))?;
    field("state", status(i))?;
    field("severity", i.severity.as_str().into())?;
    field("rule", i.rule.as_str().into())?;
    if let Some(pool) = &i.pool {
        field("pool", pool.clone())?;
    }
    if let Some(queue) = &i.queue {
        field("queue", queue.clone())?;
    }
    field(
        "value",
        format!(
            "{} (the line: {})",
            i.unit.format(i.value),
            i.unit.format(i.threshold)
        ),
    )?;
    field("opened", age(i.opened_at))?;
    if let Some(at) = i.resolved_at {
        field("resolved", age(at))?;
    }
    field("what", i.description.clone())?;
    field("do", i.action.clone())?;
    if !i.jobs.is_empty() {
        let jobs: Vec<String> = i.jobs.iter().map(ToString::to_string).collect();
        field("jobs", jobs.join(" "))?;
    }
    if !i.timeline.is_empty() {
        outln!()?;
        let rows: Vec<Vec<String>> = i
            .timeline
            .iter()
            .map(|e| {
                vec![
                    nightshift_core::timestamp::format(e.at),
                    e.kind.as_str().into(),
                    e.door.as_str().into(),
                    e.value.map_or(String::new(), |v| i.unit.format(v)),
                    e.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(&["WHEN", "WHAT", "BY", "VALUE", "NOTE"], &rows)?;
    }
    Ok(())
}

fn deliveries(detail: &IncidentDetail) -> anyhow::Result<()> {
    if detail.deliveries.is_empty() {
        return Ok(());
    }
    outln!()?;
    let rows: Vec<Vec<String>> = detail
        .deliveries
        .iter()
        .map(|d| {
            vec![
                d.alert.clone(),
                d.url.clone(),
                d.state.clone(),
                d.attempts.to_string(),
                d.last_status.map_or("-".into(), |s| s.to_string()),
                d.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ALERT",
            "WEBHOOK",
            "DELIVERY",
            "ATTEMPTS",
            "STATUS",
            "LAST ERROR",
        ],
        &rows,
    )?;
    Ok(())
}

fn rules(args: JsonArgs) -> anyhow::Result<ExitCode> {
    let view: RulesView = Client::connect()?.get("/api/incidents/rules")?;
    if args.json {
        crate::format::print_json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let ms = |v: u64| Unit::Milliseconds.format(v as f64);
    let rows: Vec<Vec<String>> = view
        .rules
        .iter()
        .map(|r| {
            let line = match r.rule {
                nightshift_api::RuleId::SlowProcessing => "learned p95 + 2σ".to_string(),
                nightshift_api::RuleId::SuccessBelowBaseline => {
                    format!("learned mean − 2σ, ≤ {}", r.unit.format(r.threshold))
                }
                _ => r.unit.format(r.threshold),
            };
            let holding: Vec<String> = r
                .holding
                .iter()
                .map(|h| {
                    let scope = if h.scope.is_empty() {
                        "nightshift"
                    } else {
                        &h.scope
                    };
                    format!("{scope}: {}", r.unit.format(h.value))
                })
                .collect();
            vec![
                r.rule.as_str().into(),
                if r.enabled { "on" } else { "off" }.into(),
                r.severity.as_str().into(),
                line,
                ms(r.for_ms),
                r.window_ms.map_or("-".into(), ms),
                if r.queues.is_empty() {
                    "all".into()
                } else {
                    r.queues.join(",")
                },
                if holding.is_empty() {
                    "-".into()
                } else {
                    holding.join("; ")
                },
            ]
        })
        .collect();
    table(
        &[
            "RULE",
            "ON",
            "SEVERITY",
            "THRESHOLD",
            "FOR",
            "WINDOW",
            "QUEUES",
            "HOLDS NOW",
        ],
        &rows,
    )?;
    if !view.baselines.is_empty() {
        outln!()?;
        let rows: Vec<Vec<String>> = view
            .baselines
            .iter()
            .map(|b| match &b.baseline {
                Some(l) => vec![
                    b.queue.clone(),
                    format!(
                        "{} ± {}",
                        Unit::Percent.format(l.success_mean),
                        Unit::Percent.format(l.success_sd)
                    ),
                    format!(
                        "{} ± {}",
                        Unit::Milliseconds.format(l.p95_mean),
                        Unit::Milliseconds.format(l.p95_sd)
                    ),
                    l.hours.to_string(),
                ],
                None => vec![
                    b.queue.clone(),
                    "learning".into(),
                    b.usual_ms.map_or("-".into(), |u| {
                        format!("{} (last day)", Unit::Milliseconds.format(u))
                    }),
                    "-".into(),
                ],
            })
            .collect();
        table(
            &["QUEUE", "SUCCESS (BASELINE)", "P95 (BASELINE)", "HOURS"],
            &rows,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
