-- Attempts: every run of a job, with the identity needed to find its process group again after
-- a crash (pid, pgid, the leader's start time and the boot id).
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    pid         INTEGER,
    pgid        INTEGER,
    start_ticks INTEGER,
    boot_id     TEXT,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    exit_code   INTEGER,
    signal      INTEGER,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('starting', 'running', 'succeeded', 'failed',
                                                    'timed_out', 'cancelled', 'interrupted', 'spawn_failed'))
);

CREATE INDEX attempts_job ON attempts (job_id, number);
-- Recovery: attempts a previous instance left open.
CREATE INDEX attempts_open ON attempts (outcome) WHERE outcome IN ('starting', 'running');
