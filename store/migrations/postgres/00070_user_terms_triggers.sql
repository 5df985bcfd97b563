-- +goose Up
-- The SQLite migration of the same number replaces user_terms' foreign key
-- to users by triggers (a lookup per term inserted cost SQLite's single
-- writer ~7% of a create). PostgreSQL keeps the foreign key: its check runs
-- in each writer's own backend, in parallel. Nothing changes here; the
-- number keeps both dialects at the same schema version (migrate-data).
SELECT 1;

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
