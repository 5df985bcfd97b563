-- +goose Up
-- POST /Users throughput (issue 3), SQLite dialect: user_terms without its
-- foreign key to users. SQLite checked that key on every term inserted (a
-- lookup in users_sid_org for each of a user's ~7 terms, ~7% of a create
-- at 1,000,000 users); terms are only ever written by the store from the
-- user row it has just written (store.writeUserTerms), so the check could
-- not fail. What the key did besides, the two triggers below do: a user's
-- terms go with it (ON DELETE CASCADE) and follow it into another
-- organization (ON UPDATE CASCADE, R-MERGE-5). `orgd restore` checks for
-- orphan terms as PRAGMA foreign_key_check did. The PostgreSQL schema keeps
-- the foreign key (its migration 00070 changes nothing).
CREATE TABLE user_terms_new (
    user_sid  TEXT NOT NULL,
    org_sid   TEXT NOT NULL,
    path      TEXT NOT NULL,
    elem      INTEGER NOT NULL,
    value     TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (user_sid, org_sid, path, elem)
) WITHOUT ROWID;
INSERT INTO user_terms_new (user_sid, org_sid, path, elem, value, key)
    SELECT user_sid, org_sid, path, elem, value, key FROM user_terms ORDER BY user_sid, org_sid, path, elem;
DROP TABLE user_terms;
ALTER TABLE user_terms_new RENAME TO user_terms;
CREATE INDEX user_terms_key ON user_terms (org_sid, path, key, user_sid);

-- +goose StatementBegin
CREATE TRIGGER user_terms_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_terms WHERE user_sid = OLD.sid;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_terms_move AFTER UPDATE OF sid, org_sid ON users
WHEN NEW.sid IS NOT OLD.sid OR NEW.org_sid IS NOT OLD.org_sid BEGIN
    UPDATE user_terms SET user_sid = NEW.sid, org_sid = NEW.org_sid WHERE user_sid = OLD.sid;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
