//! The alert history: one JSON line per time the user is told (an incident active, back, still
//! active, resolved), appended to `incidents.history_file`, as the documents Nightshift came
//! from kept theirs. The file is private to the user; a line that cannot be written (a full
//! disk) is logged, and the incident itself is stored all the same.

use crate::context::Context;
use nightshift_core::incident::Incident;
use nightshift_core::incident::lifecycle::Notice;
use serde::Serialize;
use std::io::Write;

/// One line of the history.
#[derive(Debug, Serialize)]
pub struct AlertLine<'a> {
    /// Unix ms.
    pub at: i64,
    /// "active", "reopened", "reminder" or "resolved".
    pub alert: &'static str,
    #[serde(flatten)]
    pub incident: &'a Incident,
}

pub(super) async fn append(ctx: &Context, incident: &Incident, notice: Notice) {
    let path = ctx.paths.data_dir.join(&ctx.config.incidents.history_file);
    let line = AlertLine {
        at: ctx.clock.now_ms(),
        alert: notice.as_str(),
        incident,
    };
    let Ok(mut text) = serde_json::to_string(&line) else {
        return;
    };
    text.push('\n');
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = nightshift_core::private::options()
            .append(true)
            .open(&path)?;
        nightshift_core::private::restrict(&file)?;
        file.write_all(text.as_bytes())
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot append to the alert history"),
        Err(e) => tracing::warn!(error = %e, "cannot append to the alert history"),
    }
}
