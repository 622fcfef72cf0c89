-- A random id for this database. Every job's processes carry it (NIGHTSHIFT_INSTANCE) with
-- their job id and attempt number, so start-up recovery can find an attempt's processes by
-- their environment when its pid was never stored (a crash between spawning the attempt and
-- storing its identity), and never touches the processes of another Nightshift (another data
-- directory) whose job and attempt numbers happen to be the same. `path` is the database file
-- the id was made for: a copy of the data directory elsewhere gets an id of its own when it is
-- first opened (see the store's `instance` module).
CREATE TABLE instance (
    id   TEXT NOT NULL,
    path TEXT
);
INSERT INTO instance (id) VALUES (lower(hex(randomblob(16))));
