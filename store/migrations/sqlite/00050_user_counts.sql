-- +goose Up
-- The number of users of each organization, kept by triggers, so that a
-- SCIM list (totalResults on every page) does not count a million index
-- entries per page. Eight shards per organization (by the SID's last
-- character) so that concurrent inserts on PostgreSQL rarely wait on the
-- same row; the count is their sum.
CREATE TABLE user_counts (
    org_sid TEXT NOT NULL,
    shard   INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (org_sid, shard)
);
INSERT INTO user_counts (org_sid, shard, n)
    SELECT org_sid, unicode(substr(sid, -1)) % 8, COUNT(*) FROM users GROUP BY org_sid, unicode(substr(sid, -1)) % 8;
-- +goose StatementBegin
CREATE TRIGGER user_counts_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (org_sid, shard, n) VALUES (NEW.org_sid, unicode(substr(NEW.sid, -1)) % 8, 1)
        ON CONFLICT (org_sid, shard) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE org_sid = OLD.org_sid AND shard = unicode(substr(OLD.sid, -1)) % 8;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_counts_move AFTER UPDATE OF org_sid ON users WHEN NEW.org_sid <> OLD.org_sid BEGIN
    UPDATE user_counts SET n = n - 1 WHERE org_sid = OLD.org_sid AND shard = unicode(substr(OLD.sid, -1)) % 8;
    INSERT INTO user_counts (org_sid, shard, n) VALUES (NEW.org_sid, unicode(substr(NEW.sid, -1)) % 8, 1)
        ON CONFLICT (org_sid, shard) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER user_counts_move;
DROP TRIGGER user_counts_delete;
DROP TRIGGER user_counts_insert;
DROP TABLE user_counts;
