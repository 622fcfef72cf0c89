-- Jobs queued behind their dependencies (`waiting_on > 0`) and otherwise ready: the stalled
-- rule must not take them for ready jobs nothing starts. A partial index, so counting them
-- costs what they number, not the table (dependants are few; most jobs never enter it).
CREATE INDEX jobs_waiting ON jobs (queue)
    WHERE state = 'queued' AND waiting_on > 0 AND run_at IS NULL AND power_held = 0;
