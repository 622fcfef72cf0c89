-- Queues changed at run time (`nightshift queue create|set|pause|resume`). A queue's settings
-- come from here first, then from the config file's [queues.<name>], then from [jobs].
CREATE TABLE queues (
    name        TEXT PRIMARY KEY,
    concurrency INTEGER,                 -- NULL: from the config file
    paused      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
