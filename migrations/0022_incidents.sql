-- Incidents (issue #12; core/src/incident/ decides, engine/src/incidents/ evaluates): one row
-- per incident, at most one open (pending or active) per rule and scope, and its timeline.
-- `scope` is the pool for worker_down, the queue for the other per-queue rules, and '' for
-- Nightshift as a whole.
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    rule            TEXT NOT NULL,
    scope           TEXT NOT NULL,
    queue           TEXT,
    pool            TEXT,
    severity        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state = 'pending' OR state = 'active' OR state = 'resolved'),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    action          TEXT NOT NULL,
    value           REAL NOT NULL,
    threshold       REAL NOT NULL,
    unit            TEXT NOT NULL,
    jobs            TEXT NOT NULL,      -- JSON array of job ids
    opened_at       INTEGER NOT NULL,
    active_at       INTEGER,
    resolved_at     INTEGER,
    acknowledged_at INTEGER,
    snoozed_until   INTEGER,
    notified_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX incidents_open ON incidents (rule, scope) WHERE state != 'resolved';
CREATE INDEX incidents_by_state ON incidents (state, id);
CREATE INDEX incidents_by_resolution ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;

CREATE TABLE incident_events (
    incident INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    door     TEXT NOT NULL,
    value    REAL,
    note     TEXT
);
CREATE INDEX incident_events_by_incident ON incident_events (incident, at);
