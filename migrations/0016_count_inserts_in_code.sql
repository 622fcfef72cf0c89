-- New jobs are counted by the store's insert, once per queue for a whole batch, in the same
-- transaction as the rows (`jobs::insert`, the only place that inserts jobs), instead of by a
-- trigger on every row: the trigger's upsert, and the statement journal a statement that fires
-- one must keep, made a batched insert more than twice as slow. Changes of state, and deletes,
-- are still counted by their triggers.
DROP TRIGGER queue_counts_insert;
