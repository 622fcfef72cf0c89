-- Unique jobs: while a job with a given key is queued or running, adding another with the same
-- key returns the existing job instead of queueing a duplicate.
ALTER TABLE jobs ADD COLUMN unique_key TEXT;
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running');
