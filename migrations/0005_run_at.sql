-- Jobs that wait for a time: scheduled with --at/--in, or backing off before a retry. Such a
-- queued job has run_at set and stays out of the claim index until a timer promotes it (sets
-- run_at back to NULL), so claiming stays one index lookup however many jobs wait for a time.
ALTER TABLE jobs ADD COLUMN run_at INTEGER;

DROP INDEX jobs_claim;
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, id) WHERE state = 'queued' AND run_at IS NULL;
-- The next due time, and the jobs due by now.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued' AND run_at IS NOT NULL;
