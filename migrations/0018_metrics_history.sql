-- The history of the work (issue #10; engine/src/history.rs writes it, docs/metrics.md
-- describes it). Every minute the engine runs, one row per queue that had anything to show:
-- the minute's counts and run/wait-time histograms (JSON of nightshift-core's Histogram, whose
-- buckets are the same forever, so rows merge by adding), and its gauges sampled at the end of
-- the minute. Hours hold the same columns, summed over their minutes (a gauge's sum over an
-- hour divided by the minutes covered is its mean). A queue with nothing to show in a minute
-- has no row: the spans below say which minutes Nightshift was running, so a minute without a
-- row inside a span is a quiet minute and one outside every span is a gap.
CREATE TABLE metrics_minutes (
    at INTEGER NOT NULL,            -- the minute's start, Unix ms
    queue TEXT NOT NULL,
    queued INTEGER NOT NULL,        -- ready to start (or waiting on dependencies)
    scheduled INTEGER NOT NULL,     -- waiting for their time
    held INTEGER NOT NULL,          -- waiting for power (their own needs, or the queue's)
    running INTEGER NOT NULL,
    paused INTEGER NOT NULL,        -- 1 when the queue was paused
    power_held INTEGER NOT NULL,    -- 1 when the queue was held for power
    added INTEGER NOT NULL,
    started INTEGER NOT NULL,
    succeeded INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    retried INTEGER NOT NULL,
    failed_exit_code INTEGER NOT NULL,
    failed_signal INTEGER NOT NULL,
    timed_out INTEGER NOT NULL,
    spawn_failed INTEGER NOT NULL,
    interrupted INTEGER NOT NULL,
    run TEXT NOT NULL,
    wait TEXT NOT NULL,
    PRIMARY KEY (at, queue)
) WITHOUT ROWID;

CREATE TABLE metrics_hours (
    at INTEGER NOT NULL,            -- the hour's start, Unix ms
    queue TEXT NOT NULL,
    queued INTEGER NOT NULL,
    scheduled INTEGER NOT NULL,
    held INTEGER NOT NULL,
    running INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    power_held INTEGER NOT NULL,
    added INTEGER NOT NULL,
    started INTEGER NOT NULL,
    succeeded INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    retried INTEGER NOT NULL,
    failed_exit_code INTEGER NOT NULL,
    failed_signal INTEGER NOT NULL,
    timed_out INTEGER NOT NULL,
    spawn_failed INTEGER NOT NULL,
    interrupted INTEGER NOT NULL,
    run TEXT NOT NULL,
    wait TEXT NOT NULL,
    PRIMARY KEY (at, queue)
) WITHOUT ROWID;

-- The minutes Nightshift ran: one span per run of the engine (a new one after a sleep of the
-- machine), from its first minute to its last, both included.
CREATE TABLE metrics_spans (
    first INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Where the roll-up and the pruning have got to: every hour before `rolled_up_to` has its
-- rows in metrics_hours, and no minute before `minutes_from` is left.
CREATE TABLE metrics_marks (
    name TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
