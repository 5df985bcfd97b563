-- +goose Up
-- The number of users of each organization, kept by triggers, so that a
-- SCIM list (totalResults on every page) does not count a million index
-- entries per page. Eight shards per organization (by the SID's last
-- character) so that concurrent inserts rarely wait on the same row; the
-- count is their sum.
CREATE TABLE user_counts (
    org_sid TEXT NOT NULL,
    shard   BIGINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_sid, shard)
);
INSERT INTO user_counts (org_sid, shard, n)
    SELECT org_sid, ascii(right(sid, 1)) % 8, COUNT(*) FROM users GROUP BY org_sid, ascii(right(sid, 1)) % 8;
-- +goose StatementBegin
CREATE FUNCTION user_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE user_counts SET n = n - 1 WHERE org_sid = OLD.org_sid AND shard = ascii(right(OLD.sid, 1)) % 8;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO user_counts (org_sid, shard, n) VALUES (NEW.org_sid, ascii(right(NEW.sid, 1)) % 8, 1)
            ON CONFLICT (org_sid, shard) DO UPDATE SET n = user_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER user_counts_insert AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION user_counts_track();
CREATE TRIGGER user_counts_move AFTER UPDATE OF org_sid ON users
    FOR EACH ROW WHEN (NEW.org_sid IS DISTINCT FROM OLD.org_sid) EXECUTE FUNCTION user_counts_track();

-- +goose Down
DROP TRIGGER user_counts_move ON users;
DROP TRIGGER user_counts_insert ON users;
DROP FUNCTION user_counts_track();
DROP TABLE user_counts;
