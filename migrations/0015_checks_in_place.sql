-- A CHECK written `x IN (...)` with more than two values makes SQLite build a temporary table
-- each time it checks it: on every insert of a job, and every change of a job's state or an
-- attempt's outcome, about 2 µs each, a measurable part of what a trivial job costs. The same
-- rules written with OR are checked in place. Each table's SQL text is edited where SQLite
-- keeps it, its documented way to change a CHECK constraint without rebuilding the table: no
-- row changes, and the rules are the same. RESET turns the editing off and makes this
-- connection read the schema again.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(replace(sql,
    'CHECK (state IN (''queued'', ''running'', ''succeeded'', ''failed'', ''cancelled''))',
    'CHECK (state = ''queued'' OR state = ''running'' OR state = ''succeeded'' OR state = ''failed'' OR state = ''cancelled'')'),
    'CHECK (on_power_loss IN (''finish'', ''pause'', ''requeue''))',
    'CHECK (on_power_loss = ''finish'' OR on_power_loss = ''pause'' OR on_power_loss = ''requeue'')')
WHERE type = 'table' AND name = 'jobs';

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (on_power_loss IN (''finish'', ''pause'', ''requeue''))',
    'CHECK (on_power_loss = ''finish'' OR on_power_loss = ''pause'' OR on_power_loss = ''requeue'')')
WHERE type = 'table' AND name = 'queues';

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (outcome IN (''starting'', ''running'', ''succeeded'', ''failed'',' || char(10) ||
    '                                                    ''timed_out'', ''cancelled'', ''interrupted'', ''spawn_failed''))',
    'CHECK (outcome = ''starting'' OR outcome = ''running'' OR outcome = ''succeeded'' OR outcome = ''failed'' OR outcome = ''timed_out'' OR outcome = ''cancelled'' OR outcome = ''interrupted'' OR outcome = ''spawn_failed'')')
WHERE type = 'table' AND name = 'attempts';

PRAGMA writable_schema = RESET;
