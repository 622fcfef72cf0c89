-- Recurring jobs (`add --every`, `add --cron`): each fire adds one job from the template, with
-- the unique key "schedule:<name>" so a run still queued or running is never joined by another.
-- next_due is the next planned fire time (NULL: none left); the anchor is where an interval
-- counts from (see nightshift-core's recurrence module for the catch-up rules).
CREATE TABLE schedules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    recurrence TEXT    NOT NULL,               -- "every <ms>" or "cron <expression>"
    job        TEXT    NOT NULL,               -- JSON: the job spec each run gets
    payload    BLOB,                           -- JSON payload each run gets
    catch_up   INTEGER NOT NULL DEFAULT 1,     -- one run for fire times missed while off or asleep
    paused     INTEGER NOT NULL DEFAULT 0,
    anchor     INTEGER NOT NULL,
    next_due   INTEGER,
    last_run   INTEGER,                        -- when it last added a job
    last_job   INTEGER,                        -- that job's id
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- The next fire time, and the schedules due by now.
CREATE INDEX schedules_due ON schedules (next_due) WHERE paused = 0 AND next_due IS NOT NULL;
