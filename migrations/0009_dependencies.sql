-- Dependencies (`add --after ID`): a job runs only after each job it names has succeeded. One
-- row per edge; `waiting_on` counts the edges not yet satisfied, so a blocked job stays out of
-- the claim index without a join, and a success releases its dependants through the index
-- on `after_id`. No foreign key on `after_id`: a finished dependency may be removed.
CREATE TABLE job_deps (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    after_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, after_id)
) WITHOUT ROWID;
CREATE INDEX job_deps_after ON job_deps (after_id);

ALTER TABLE jobs ADD COLUMN waiting_on INTEGER NOT NULL DEFAULT 0;

DROP INDEX jobs_claim;
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, id)
    WHERE state = 'queued' AND run_at IS NULL AND power_held = 0 AND waiting_on = 0;
