-- Job counts per state, kept by triggers in the same transaction as every change, so the
-- tray and status views read five rows instead of counting a table that may hold millions.
CREATE TABLE job_counts (
    state TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO job_counts (state, n)
SELECT column1, (SELECT count(*) FROM jobs WHERE jobs.state = column1)
FROM (VALUES ('queued'), ('running'), ('succeeded'), ('failed'), ('cancelled'));

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs
BEGIN
    UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;

CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs
BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
END;

CREATE TRIGGER job_counts_update AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state
BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
    UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;
