-- +goose Up
-- Console (issue 6), PostgreSQL dialect: setup links. Times are Unix
-- milliseconds (UTC). The SQLite file of the same name has the same
-- table and indexes.

-- A setup link opens only the SSO and SCIM setup of its organization
-- (orgmodel.ScopeIdentitySetup, R-ROLE-3). Its token is stored as its
-- SHA-256; the link goes with its organization (a merge's candidate).
CREATE TABLE setup_links (
    id            TEXT PRIMARY KEY,
    org_sid       TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    CHECK (expires_at > created_at)
);
-- Every request looks its link up by the token's hash.
CREATE UNIQUE INDEX setup_links_token ON setup_links (token_hash);
-- The console lists an organization's links, newest first.
CREATE INDEX setup_links_org ON setup_links (org_sid, created_at, id);

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
