//! Jobs with power needs of their own (`add --require-ac`, `--min-battery`): set aside out of
//! the claim index when a claim meets them unmet, and brought back when power changes.

use crate::Result;
use rusqlite::{Connection, params};

/// The power supply as a claim sees it, to hold back jobs whose own power needs are not met.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerNow {
    pub on_ac: bool,
    pub battery_percent: Option<f32>,
}

impl PowerNow {
    /// On AC power: every job may start.
    pub const AC: PowerNow = PowerNow {
        on_ac: true,
        battery_percent: None,
    };

    /// Whether a job asking for AC (`require_ac`) or a minimum charge may start now.
    fn allows(self, require_ac: bool, min_battery: Option<u8>) -> bool {
        if self.on_ac {
            return true;
        }
        if require_ac {
            return false;
        }
        match (min_battery, self.battery_percent) {
            (Some(min), Some(percent)) => percent >= f32::from(min),
            // No minimum, or a charge nobody can read: nothing to hold it for.
            _ => true,
        }
    }
}

/// Sets aside the next jobs in claim order whose own power needs `power` does not meet, until
/// the first `limit` are all startable. Each held job is stepped over once: it leaves the claim
/// index until `release_power_held` brings it back.
pub(crate) fn hold_for_power(
    c: &Connection,
    queue: &str,
    limit: u32,
    power: PowerNow,
) -> Result<usize> {
    let mut held = 0;
    if power.on_ac {
        return Ok(held);
    }
    let mut next = c.prepare_cached(
        "SELECT id, require_ac, min_battery FROM jobs INDEXED BY jobs_claim
         WHERE state = 'queued' AND run_at IS NULL AND power_held = 0 AND waiting_on = 0
           AND queue = ?1
         ORDER BY priority DESC, id LIMIT CAST(?2 AS INTEGER)",
    )?;
    let mut hold = c.prepare_cached("UPDATE jobs SET power_held = 1 WHERE id = ?1")?;
    loop {
        let unmet: Vec<i64> = next
            .query_map(params![queue, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Option<u8>>(2)?,
                ))
            })?
            .filter_map(|row| match row {
                Ok((id, ac, min)) if !power.allows(ac, min) => Some(Ok(id)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<rusqlite::Result<_>>()?;
        if unmet.is_empty() {
            return Ok(held);
        }
        for id in unmet {
            held += hold.execute([id])?;
        }
    }
}

/// Brings back the jobs held for power that `power` now lets start; a job held for a low
/// battery needs `hysteresis` points above its minimum. Returns the queues that gained work.
pub(crate) fn release_power_held(
    c: &Connection,
    power: PowerNow,
    hysteresis: u8,
) -> Result<Vec<String>> {
    let mut queues: Vec<String> = if power.on_ac {
        c.prepare_cached(
            "UPDATE jobs INDEXED BY jobs_power_held SET power_held = 0
             WHERE state = 'queued' AND power_held = 1 RETURNING queue",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?
    } else {
        // With no reading of the charge, a minimum cannot hold anything (as in `allows`).
        let ceiling = power
            .battery_percent
            .map_or(f64::from(u8::MAX), |p| f64::from(p) - f64::from(hysteresis));
        c.prepare_cached(
            "UPDATE jobs INDEXED BY jobs_power_held SET power_held = 0
             WHERE state = 'queued' AND power_held = 1 AND require_ac = 0
               AND (min_battery IS NULL OR min_battery <= ?1)
             RETURNING queue",
        )?
        .query_map([ceiling], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?
    };
    queues.sort();
    queues.dedup();
    Ok(queues)
}

/// Whether any queued job waits aside for its own power needs (one index probe).
pub(crate) fn any_held(c: &Connection) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_power_held
                            WHERE state = 'queued' AND power_held = 1)",
    )?
    .query_row([], |r| r.get(0))?)
}
