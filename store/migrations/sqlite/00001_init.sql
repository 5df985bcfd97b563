-- +goose Up
-- orgd schema, SQLite dialect. Times are Unix milliseconds (UTC); booleans
-- are 0/1. Every constraint that backs a rule names it. The PostgreSQL file
-- of the same name has the same tables, indexes and constraints.

CREATE TABLE orgs (
    sid            TEXT PRIMARY KEY,
    friendly_name  TEXT NOT NULL,
    owner_sid      TEXT NOT NULL,
    account_limit  INTEGER NOT NULL,              -- R-HIER-3
    baa_at         INTEGER,                       -- R-HIPAA-1
    bulk_import    INTEGER NOT NULL DEFAULT 0,    -- R-USER-6
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE users (
    sid                 TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    -- R-USER-2: a user is in exactly one organization: one column, not a join table.
    org_sid             TEXT NOT NULL REFERENCES orgs (sid),
    role                TEXT NOT NULL CHECK (role IN ('owner', 'administrator', 'standard')),
    status              TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    given_name          TEXT NOT NULL DEFAULT '',
    family_name         TEXT NOT NULL DEFAULT '',
    display_name        TEXT NOT NULL DEFAULT '',
    external_id         TEXT NOT NULL DEFAULT '',
    locale              TEXT NOT NULL DEFAULT '',
    timezone            TEXT NOT NULL DEFAULT '',
    extra               TEXT NOT NULL DEFAULT '',
    version             INTEGER NOT NULL DEFAULT 1,
    password_hash       TEXT NOT NULL DEFAULT '',
    totp_secret         TEXT NOT NULL DEFAULT '',
    mfa_enrol_required  INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
-- R-USER-2 backstop: one user per email (case-insensitive), hence one organization per person.
CREATE UNIQUE INDEX users_email_key ON users (email_key);
-- R-ROLE-1 backstop: at most one Owner per organization (orgmodel keeps "at least one").
CREATE UNIQUE INDEX one_owner_per_org ON users (org_sid) WHERE role = 'owner';
CREATE INDEX users_org ON users (org_sid, sid);

CREATE TABLE accounts (
    sid                    TEXT PRIMARY KEY,
    friendly_name          TEXT NOT NULL,
    org_sid                TEXT NOT NULL REFERENCES orgs (sid),            -- R-HIER-1: at most one organization
    owner_sid              TEXT REFERENCES users (sid),                    -- R-ACCT-5: always a managed user
    parent_sid             TEXT REFERENCES accounts (sid),                 -- R-HIER-1: one parent
    usage                  TEXT NOT NULL CHECK (usage IN ('twilio', 'flex')),
    type                   TEXT NOT NULL CHECK (type IN ('Trial', 'Full')),
    status                 TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    hipaa                  INTEGER NOT NULL DEFAULT 0,
    suspended_with_parent  INTEGER NOT NULL DEFAULT 0,
    subaccount_limit       INTEGER NOT NULL DEFAULT 0,                     -- R-HIER-4 override
    auth_token_hash        TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    -- R-HIER-1: top-level accounts have an owner; subaccounts belong to their parent.
    CONSTRAINT account_owner_or_parent CHECK ((owner_sid IS NULL) <> (parent_sid IS NULL))
);
CREATE INDEX accounts_org ON accounts (org_sid, sid);
CREATE INDEX accounts_parent ON accounts (parent_sid, sid);
CREATE INDEX accounts_owner ON accounts (owner_sid);

CREATE TABLE account_links (
    org_sid       TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    account_sid   TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    relation      TEXT NOT NULL CHECK (relation IN ('pending', 'independent')),   -- R-ACCT-1
    requested_by  TEXT NOT NULL,
    token_hash    TEXT,
    expires_at    INTEGER,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (org_sid, account_sid)
);
CREATE INDEX account_links_account ON account_links (account_sid);
CREATE UNIQUE INDEX account_links_token ON account_links (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX account_links_expiry ON account_links (expires_at) WHERE relation = 'pending';

CREATE TABLE grants (
    sid          TEXT PRIMARY KEY,
    account_sid  TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    user_sid     TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    org_sid      TEXT NOT NULL REFERENCES orgs (sid),
    role         TEXT NOT NULL CHECK (role IN ('administrator', 'developer', 'billing', 'support')),
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX grants_account_user ON grants (account_sid, user_sid);
CREATE INDEX grants_user ON grants (user_sid);
CREATE INDEX grants_org ON grants (org_sid, sid);

CREATE TABLE domains (
    sid            TEXT PRIMARY KEY,
    org_sid        TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    token          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('unverified', 'verified')),
    signup         TEXT NOT NULL CHECK (signup IN ('restricted', 'auto-enrollment', 'blocked')),
    sso_enforced   INTEGER NOT NULL DEFAULT 0,
    verified_at    INTEGER,
    checked_at     INTEGER,
    missing_since  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX domains_org_name ON domains (org_sid, name);
CREATE INDEX domains_name ON domains (name);
-- R-DOM-4 backstop: at most one organization sets Auto-enrollment or enforces SSO for a domain.
CREATE UNIQUE INDEX one_exclusive_org_per_domain ON domains (name) WHERE signup = 'auto-enrollment' OR sso_enforced = 1;
CREATE INDEX domains_recheck ON domains (checked_at) WHERE status = 'verified';

CREATE TABLE invitations (
    sid          TEXT PRIMARY KEY,
    org_sid      TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    email_key    TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('administrator', 'standard')),  -- R-ROLE-4: never owner
    grants       TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
    invited_by   TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_by  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_org ON invitations (org_sid, email_key, status);
CREATE INDEX invitations_email ON invitations (email_key, status);

CREATE TABLE scim_tokens (
    id            TEXT PRIMARY KEY,
    org_sid       TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (token_hash);
CREATE INDEX scim_tokens_org ON scim_tokens (org_sid);

CREATE TABLE oauth_clients (
    sid          TEXT PRIMARY KEY,
    org_sid      TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX oauth_clients_org ON oauth_clients (org_sid);

CREATE TABLE api_keys (
    sid            TEXT PRIMARY KEY,
    account_sid    TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    friendly_name  TEXT NOT NULL,
    secret_hash    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_sid, sid);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL,
    user_sid      TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    via           TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    idle_ttl      INTEGER NOT NULL,
    ended_at      INTEGER,
    end_reason    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_live ON sessions (user_sid) WHERE ended_at IS NULL;

CREATE TABLE reset_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_sid    TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX reset_tokens_user ON reset_tokens (user_sid);

CREATE TABLE idps (
    org_sid              TEXT PRIMARY KEY REFERENCES orgs (sid) ON DELETE CASCADE,  -- R-SSO-1: one IdP
    entity_id            TEXT NOT NULL,
    sso_url              TEXT NOT NULL,
    metadata_xml         TEXT NOT NULL,
    metadata_url         TEXT NOT NULL DEFAULT '',
    allow_idp_initiated  INTEGER NOT NULL DEFAULT 0,
    email_attribute      TEXT NOT NULL DEFAULT '',
    tested_at            INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- R-AUDIT-1: append-only. No foreign keys: events outlive what they describe.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    sid          TEXT NOT NULL UNIQUE,
    org_sid      TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    via          TEXT NOT NULL,
    remote_addr  TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before_json  TEXT NOT NULL DEFAULT '',
    after_json   TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL
);
CREATE INDEX audit_org ON audit_events (org_sid, seq);
CREATE INDEX audit_org_actor ON audit_events (org_sid, actor, seq);
CREATE INDEX audit_org_action ON audit_events (org_sid, action, seq);
CREATE INDEX audit_org_target ON audit_events (org_sid, target, seq);
CREATE INDEX audit_org_at ON audit_events (org_sid, at);

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'R-AUDIT-1: the audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'R-AUDIT-1: the audit log is append-only'); END;
-- +goose StatementEnd

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    to_addr          TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    sent_at          INTEGER,
    logged_at        INTEGER,
    last_error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_unlogged ON outbox (id) WHERE sent_at IS NULL AND logged_at IS NULL;
CREATE INDEX outbox_to ON outbox (to_addr, id);

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
