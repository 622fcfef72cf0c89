-- Job counts per queue and state, kept by triggers in the same transaction as every change.
-- They replace job_counts (migration 0003), whose per-state totals are their sums, so a change
-- still runs one counting trigger. `queue ls` read its counts with a GROUP BY over the whole
-- table: over half a second with a million finished jobs; now it reads a few rows.
CREATE TABLE queue_counts (
    queue TEXT    NOT NULL,
    state TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (queue, state)
) WITHOUT ROWID;

INSERT INTO queue_counts (queue, state, n)
SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;

DROP TRIGGER job_counts_insert;
DROP TRIGGER job_counts_delete;
DROP TRIGGER job_counts_update;
DROP TABLE job_counts;

CREATE TRIGGER queue_counts_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO queue_counts (queue, state, n) VALUES (NEW.queue, NEW.state, 1)
    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_counts_delete AFTER DELETE ON jobs
BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;
END;

CREATE TRIGGER queue_counts_update AFTER UPDATE OF state, queue ON jobs
WHEN OLD.state <> NEW.state OR OLD.queue <> NEW.queue
BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;
    INSERT INTO queue_counts (queue, state, n) VALUES (NEW.queue, NEW.state, 1)
    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;
