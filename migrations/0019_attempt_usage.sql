-- What each attempt's process group used, sampled while it ran (engine/src/usage.rs): its CPU
-- time in milliseconds and its peak resident memory in bytes (summed over the group's members).
-- NULL when the attempt ended before its first sample, and for attempts from before this.
ALTER TABLE attempts ADD COLUMN cpu_ms INTEGER;
ALTER TABLE attempts ADD COLUMN peak_rss_bytes INTEGER;
