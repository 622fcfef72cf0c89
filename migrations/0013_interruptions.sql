-- Interruptions in a row: attempts ended by Nightshift's own crash (found open by start-up
-- recovery). They do not use the job's attempts, since the job may be blameless; but a job
-- that brings Nightshift or the machine down every time must not loop forever, so it fails
-- once this count reaches `jobs.max_interruptions`. Any attempt that ends another way (except a
-- graceful stop or a power-loss requeue, which say nothing about the job) resets it, and so
-- does a retry.
ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
