-- +goose Up
-- Twilio-compatible API (issue 5), PostgreSQL dialect. The SQLite file of
-- the same name has the same tables, indexes and constraints.

-- Ed25519 keys that sign the Organizations API's access tokens, shared by
-- every replica. The seed is a secret: it cannot be hashed, since it signs.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    -- Replicas racing to rotate agree on one key: the loser of the unique
    -- generation reads the winner's (orgmodel.Service.SigningKeys).
    generation  BIGINT NOT NULL,
    seed        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_generation ON signing_keys (generation);

-- Role assignments (R-ROLE-3) list an organization's Owner and
-- Administrators, and page its grants by user or by account in SID order.
CREATE INDEX users_org_role ON users (org_sid, role, sid);
CREATE INDEX grants_user_sid ON grants (user_sid, sid);
CREATE INDEX grants_account_sid ON grants (account_sid, sid);

-- +goose Down
DROP INDEX grants_account_sid;
DROP INDEX grants_user_sid;
DROP INDEX users_org_role;
DROP TABLE signing_keys;
