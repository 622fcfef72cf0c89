-- A job that means to leave processes running after its attempts (a daemon it starts on
-- purpose) says so: without it, processes that left the job's process group (setsid, setpgid,
-- a double fork) are ended with the attempt, as the group is.
ALTER TABLE jobs ADD COLUMN leave_running INTEGER NOT NULL DEFAULT 0;
