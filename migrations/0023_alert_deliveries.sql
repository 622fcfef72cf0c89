-- Webhook deliveries of alerts (issue #12; crates/alerts sends them): one row per alert and
-- receiver, kept as the delivery log. A pending row is sent (again) at `next_at`, also after a
-- restart: an alert is not lost to a receiver that was down or a Nightshift that was killed.
CREATE TABLE alert_deliveries (
    id           INTEGER PRIMARY KEY,
    incident     INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert        TEXT NOT NULL,          -- active, reopened, reminder, resolved
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,          -- the JSON sent
    state        TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_status  INTEGER,                -- the receiver's HTTP status, if it answered
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    next_at      INTEGER,                -- while pending: when it is sent next
    done_at      INTEGER
);
CREATE INDEX alert_deliveries_pending ON alert_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX alert_deliveries_by_incident ON alert_deliveries (incident, id);
