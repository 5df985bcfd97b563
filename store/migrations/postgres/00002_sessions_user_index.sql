-- +goose Up
-- Deleting a user (removal, deprovisioning) cascades to its sessions, so
-- the foreign key sessions.user_sid needs an index that is not partial:
-- without one every deletion reads the whole sessions table (SQLite and
-- PostgreSQL alike). Leading with user_sid and then ended_at, the index
-- also finds a user's live sessions (ended_at IS NULL) for EndUserSessions,
-- which the partial index sessions_live did; it replaces it.
CREATE INDEX sessions_user ON sessions (user_sid, ended_at);
DROP INDEX sessions_live;

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
