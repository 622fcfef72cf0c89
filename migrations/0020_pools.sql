-- Worker pools (issue #11; engine/src/pools/ supervises them, docs/workers.md describes them):
-- long-running workers that take the jobs of one queue over their standard input and output.
-- A queue has at most one pool. `stopped` keeps a pool defined with no worker running
-- (`nightshift worker stop`), as opposed to `count` 0.
CREATE TABLE pools (
    name         TEXT PRIMARY KEY,
    queue        TEXT NOT NULL UNIQUE,
    count        INTEGER NOT NULL CHECK (count >= 0),
    program      TEXT NOT NULL,
    args         TEXT NOT NULL,      -- JSON array of strings
    env          TEXT NOT NULL,      -- JSON object of strings
    cwd          TEXT,
    heartbeat_ms INTEGER,            -- NULL: no heartbeat asked for
    stopped      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- An attempt a worker ran: which one ("pool/slot"), and the value its result carried (JSON),
-- shown by `show`. NULL for attempts that ran as processes of their own.
ALTER TABLE attempts ADD COLUMN worker TEXT;
ALTER TABLE attempts ADD COLUMN result TEXT;
