-- Pools declared in the config file (`[pools.NAME]`, issue #11): made or brought in line with
-- the file at each start, and removed when the file no longer names them. Pools added with
-- `nightshift worker add` have 0 and are never touched by that.
ALTER TABLE pools ADD COLUMN from_config INTEGER NOT NULL DEFAULT 0;
