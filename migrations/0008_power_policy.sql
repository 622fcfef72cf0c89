-- Power policy per job (`add --require-ac`, `--min-battery`, `--on-power-loss`), on top of its
-- queue's: a job whose own needs are not met when its queue would run it is set aside
-- (power_held = 1), out of the claim index, and looked at again only when power changes, so a
-- claim never steps over the same held jobs twice.
ALTER TABLE jobs ADD COLUMN require_ac INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN min_battery INTEGER;
ALTER TABLE jobs ADD COLUMN on_power_loss TEXT CHECK (on_power_loss IN ('finish', 'pause', 'requeue'));
ALTER TABLE jobs ADD COLUMN power_held INTEGER NOT NULL DEFAULT 0;

DROP INDEX jobs_claim;
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, id)
    WHERE state = 'queued' AND run_at IS NULL AND power_held = 0;
-- Held jobs that a power change may release: all of them on AC, those needing no AC and a
-- minimum under the charge on battery.
CREATE INDEX jobs_power_held ON jobs (require_ac, min_battery)
    WHERE state = 'queued' AND power_held = 1;

-- A queue's power-loss action, its lower limit on battery, and defaults for the jobs added to
-- it. NULL: the config file's [queues.<name>] decides.
ALTER TABLE queues ADD COLUMN on_power_loss TEXT CHECK (on_power_loss IN ('finish', 'pause', 'requeue'));
ALTER TABLE queues ADD COLUMN battery_concurrency INTEGER;
ALTER TABLE queues ADD COLUMN timeout_ms INTEGER;
ALTER TABLE queues ADD COLUMN max_attempts INTEGER;
ALTER TABLE queues ADD COLUMN retry_backoff_ms INTEGER;
