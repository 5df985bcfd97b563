-- +goose Up
-- SSO and login (issue 4), SQLite dialect. Times are Unix milliseconds (UTC);
-- booleans are 0/1. The PostgreSQL file of the same name has the same
-- tables, indexes and constraints.

-- R-SSO-1: what must be used once — SAML assertion IDs, TOTP codes — is
-- recorded here; the primary key makes "once" hold across replicas.
CREATE TABLE used_keys (
    used_key    TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX used_keys_expiry ON used_keys (expires_at);

-- R-SSO-1: AuthnRequests this server sent; each response must answer one,
-- once, before it expires (used_at is set by a single conditional UPDATE).
CREATE TABLE saml_requests (
    id           TEXT NOT NULL,
    org_sid      TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    relay_state  TEXT NOT NULL DEFAULT '',
    test_by      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    PRIMARY KEY (org_sid, id)
);
CREATE INDEX saml_requests_expiry ON saml_requests (expires_at);

-- Failed login attempts per key (email or user, and device); counted by
-- one upsert so that replicas never lose a count.
CREATE TABLE login_throttle (
    throttle_key     TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL CHECK (failures > 0),
    last_failure_at  INTEGER NOT NULL
);
CREATE INDEX login_throttle_idle ON login_throttle (last_failure_at);

-- Browsers a user logged in from: their failures count apart.
CREATE TABLE trusted_devices (
    token_hash  TEXT PRIMARY KEY,
    user_sid    TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices (user_sid);
CREATE INDEX trusted_devices_expiry ON trusted_devices (expires_at);

-- R-DOM-3: a web sign-up proves its email with a mailed link first.
CREATE TABLE signup_confirmations (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX signup_confirmations_expiry ON signup_confirmations (expires_at);

-- An organization's login requirements (second factor for password logins).
CREATE TABLE login_settings (
    org_sid      TEXT PRIMARY KEY REFERENCES orgs (sid) ON DELETE CASCADE,
    require_mfa  INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);

-- The periodic metadata refresh lists IdPs configured from a URL.
CREATE INDEX idps_metadata_url ON idps (org_sid) WHERE metadata_url <> '';

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
