-- A random id for this database. Every job's processes carry it (NIGHTSHIFT_INSTANCE) with
-- their job id and attempt number, so start-up recovery can find an attempt's processes by
-- their environment when its pid was never stored (a crash between spawning the attempt and
-- storing its identity), and never touches the processes of another Nightshift (another data
-- directory) whose job and attempt numbers happen to be the same.
CREATE TABLE instance (
    id TEXT NOT NULL
);
INSERT INTO instance (id) VALUES (lower(hex(randomblob(16))));
