-- Power policy per queue, set at run time (`nightshift queue set --require-ac`,
-- `--min-battery`). NULL: the config file's [queues.<name>] decides.
ALTER TABLE queues ADD COLUMN require_ac INTEGER;
ALTER TABLE queues ADD COLUMN min_battery INTEGER;
