-- +goose Up
-- The SQLite migration of the same number replaces SQLite's insert trigger
-- on users by counting in the store, in one shard (it has one writer).
-- PostgreSQL keeps its trigger and eight shards, which spread concurrent
-- inserts over eight rows. Nothing changes here; the number keeps both
-- dialects at the same schema version (migrate-data).
SELECT 1;

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
