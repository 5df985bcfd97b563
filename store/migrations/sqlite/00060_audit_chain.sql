-- +goose Up
-- Tamper-evident audit log (hardening), SQLite dialect. The PostgreSQL file
-- of the same name has the same columns, table and rule.

-- Each event carries the hash of the one before it in its organization's
-- chain (orgmodel.AuditHash); '' on events written before this migration
-- until the backfill (migration 00061) chains them.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';

-- One row per chain: the last event's seq and hash and how many events
-- the chain holds. Writers lock it (an upsert) before appending, so a
-- chain is extended by one transaction at a time; `orgd audit verify`
-- compares the walk's end with it, so deleting the newest events shows.
CREATE TABLE audit_heads (
    org_sid   TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL DEFAULT 0,
    hash      TEXT NOT NULL DEFAULT '',
    events    INTEGER NOT NULL DEFAULT 0
);

-- R-AUDIT-1 stays: no update, except filling the hash of an event written
-- before the chain existed, once, leaving everything else as it was.
DROP TRIGGER audit_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash <> '' OR NEW.hash = '' OR NEW.seq IS NOT OLD.seq OR NEW.sid IS NOT OLD.sid
  OR NEW.org_sid IS NOT OLD.org_sid OR NEW.actor IS NOT OLD.actor OR NEW.via IS NOT OLD.via
  OR NEW.remote_addr IS NOT OLD.remote_addr OR NEW.action IS NOT OLD.action
  OR NEW.target IS NOT OLD.target OR NEW.before_json IS NOT OLD.before_json
  OR NEW.after_json IS NOT OLD.after_json OR NEW.at IS NOT OLD.at
BEGIN SELECT RAISE(ABORT, 'R-AUDIT-1: the audit log is append-only'); END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
