-- Changes of state and deletes are counted by the store's code, in the same transaction as
-- the change (`counts.rs`: the claim, an attempt's end, a cancel, a retry, the cancel of a
-- dependant, a removal), as inserts have been since migration 0016. A statement that fires a
-- trigger keeps a statement journal and runs the trigger's program for every row; with the
-- triggers gone, a job's claim and end each write its counts with two plain statements, and
-- a whole claim of several jobs of one queue with two in all.
DROP TRIGGER queue_counts_update;
DROP TRIGGER queue_counts_delete;
