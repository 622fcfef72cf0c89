-- Jobs: what to run, where it stands, and how it ended.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids are handles scripts keep
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    queue         TEXT    NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    program       TEXT    NOT NULL,
    args          TEXT    NOT NULL DEFAULT '[]',   -- JSON array of strings
    shell         INTEGER NOT NULL DEFAULT 0,
    env           TEXT    NOT NULL DEFAULT '{}',   -- JSON object of strings
    cwd           TEXT,
    timeout_ms    INTEGER,
    max_attempts  INTEGER NOT NULL DEFAULT 1,
    notify        INTEGER NOT NULL DEFAULT 0,
    payload       BLOB,                            -- inline payload (under 10 KiB)
    payload_file  TEXT,                            -- compressed payload file in the payloads folder
    payload_size  INTEGER,                         -- uncompressed size in bytes
    attempts_used INTEGER NOT NULL DEFAULT 0,      -- attempts that counted against max_attempts
    attempt_count INTEGER NOT NULL DEFAULT 0,      -- attempts made in all
    created_at    INTEGER NOT NULL,                -- Unix milliseconds
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    exit_code     INTEGER,
    signal        INTEGER,
    reason        TEXT
);

-- Claim: the next queued job of a queue by priority then age, without touching finished rows.
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, id) WHERE state = 'queued';
-- Listing newest first, filtered by state or by queue.
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_queue ON jobs (queue, id);
-- Start-up cleanup of payload files that lost their row.
CREATE INDEX jobs_payload_file ON jobs (payload_file) WHERE payload_file IS NOT NULL;
