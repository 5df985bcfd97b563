-- +goose Up
-- SCIM provisioning (issue 3), SQLite dialect: searchable terms of users,
-- groups and their members, and what a group's membership gives. The
-- PostgreSQL file of the same name has the same tables, indexes and
-- constraints. Keys (email_key, display_key, key) are computed in Go
-- (orgmodel.EmailKey, orgmodel.FoldKey) so that both databases compare
-- case-insensitively alike, Unicode included; text compares by code point.

-- Target of the composite foreign keys below: a row that follows its user
-- into another organization (R-MERGE-5) through ON UPDATE CASCADE.
CREATE UNIQUE INDEX users_sid_org ON users (sid, org_sid);
-- SCIM filters and sorting: externalId eq, meta.created / meta.lastModified
-- ranges (userName uses users_email_key).
CREATE INDEX users_org_external ON users (org_sid, external_id);
CREATE INDEX users_org_created ON users (org_sid, created_at);
CREATE INDEX users_org_updated ON users (org_sid, updated_at);

-- One row per searchable value of a user (orgmodel.UserTerms): path is the
-- lower-case attribute path, elem the element of a multi-valued attribute
-- (0 when single-valued), key the folded value.
CREATE TABLE user_terms (
    user_sid  TEXT NOT NULL,
    org_sid   TEXT NOT NULL,
    path      TEXT NOT NULL,
    elem      INTEGER NOT NULL,
    value     TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (user_sid, org_sid, path, elem),
    FOREIGN KEY (user_sid, org_sid) REFERENCES users (sid, org_sid) ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_terms_key ON user_terms (org_sid, path, key, user_sid);

CREATE TABLE scim_groups (
    sid           TEXT PRIMARY KEY,
    org_sid       TEXT NOT NULL REFERENCES orgs (sid) ON DELETE CASCADE,
    display_name  TEXT NOT NULL,
    display_key   TEXT NOT NULL,
    external_id   TEXT NOT NULL DEFAULT '',
    -- R-ROLE-4: a group gives at most the Administrator role, never Owner.
    role          TEXT NOT NULL DEFAULT '' CHECK (role IN ('', 'administrator')),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- R-SCIM-1 backstop: a group's displayName is unique in its organization, without regard to case.
CREATE UNIQUE INDEX scim_groups_org_name ON scim_groups (org_sid, display_key);
CREATE INDEX scim_groups_org ON scim_groups (org_sid, sid);
CREATE INDEX scim_groups_org_external ON scim_groups (org_sid, external_id);
CREATE INDEX scim_groups_org_created ON scim_groups (org_sid, created_at);
CREATE INDEX scim_groups_org_updated ON scim_groups (org_sid, updated_at);
CREATE INDEX scim_groups_role ON scim_groups (sid) WHERE role <> '';

-- R-SCIM-1: members are users of the group's organization (org_sid is the
-- group's; the composite key makes the user's agree and follow a move).
CREATE TABLE group_members (
    group_sid  TEXT NOT NULL REFERENCES scim_groups (sid) ON DELETE CASCADE,
    user_sid   TEXT NOT NULL,
    org_sid    TEXT NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (group_sid, user_sid),
    FOREIGN KEY (user_sid, org_sid) REFERENCES users (sid, org_sid) ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_sid, org_sid, group_sid);

-- Account access a group's members receive (R-ROLE-3, R-ACCT-8).
CREATE TABLE group_accounts (
    group_sid    TEXT NOT NULL REFERENCES scim_groups (sid) ON DELETE CASCADE,
    account_sid  TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('administrator', 'developer', 'billing', 'support')),
    PRIMARY KEY (group_sid, account_sid)
) WITHOUT ROWID;
CREATE INDEX group_accounts_account ON group_accounts (account_sid);

-- A user whose Administrator role a group gave (and may take away again).
CREATE TABLE group_role_marks (
    user_sid  TEXT PRIMARY KEY REFERENCES users (sid) ON DELETE CASCADE
) WITHOUT ROWID;

-- A grant a group gave (and may take away again); it goes with the grant.
CREATE TABLE group_grant_marks (
    account_sid  TEXT NOT NULL,
    user_sid     TEXT NOT NULL,
    PRIMARY KEY (account_sid, user_sid),
    FOREIGN KEY (account_sid, user_sid) REFERENCES grants (account_sid, user_sid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_grant_marks_user ON group_grant_marks (user_sid);

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
