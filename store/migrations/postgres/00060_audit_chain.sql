-- +goose Up
-- Tamper-evident audit log (hardening), PostgreSQL dialect. The SQLite file
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
    last_seq  BIGINT NOT NULL DEFAULT 0,
    hash      TEXT NOT NULL DEFAULT '',
    events    BIGINT NOT NULL DEFAULT 0
);

-- R-AUDIT-1 stays: no update, except filling the hash of an event written
-- before the chain existed, once, leaving everything else as it was.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash = '' AND NEW.hash <> ''
           AND (NEW.seq, NEW.sid, NEW.org_sid, NEW.actor, NEW.via, NEW.remote_addr, NEW.action,
                NEW.target, NEW.before_json, NEW.after_json, NEW.at)
               IS NOT DISTINCT FROM
               (OLD.seq, OLD.sid, OLD.org_sid, OLD.actor, OLD.via, OLD.remote_addr, OLD.action,
                OLD.target, OLD.before_json, OLD.after_json, OLD.at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'R-AUDIT-1: the audit log is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
