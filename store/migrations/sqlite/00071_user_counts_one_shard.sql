-- +goose Up
-- POST /Users throughput (issue 3), SQLite dialect: a user's insert no
-- longer counts itself through a trigger. The trigger made SQLite treat
-- the single-row INSERT INTO users as a statement of several writes that
-- may abort, journalling every page it touched to undo it alone (with the
-- trigger's own upsert, ~5% of a create on the single writer). The store
-- now counts the users it inserts itself (store.tx.countUsers; a batch of
-- writes adds its creates once, before its commit). SQLite has one writer,
-- so the eight shards that spread PostgreSQL's concurrent inserts are one
-- here: shard 0. Deletes and moves keep their triggers, which add -1
-- (an upsert: a batch may delete or move a user whose insert it has not
-- counted yet, in an organization that has no count row yet). The PostgreSQL
-- schema is unchanged (its 00071 changes nothing).
INSERT INTO user_counts (org_sid, shard, n)
    SELECT org_sid, 0, SUM(n) FROM user_counts WHERE true GROUP BY org_sid
    ON CONFLICT (org_sid, shard) DO UPDATE SET n = excluded.n;
DELETE FROM user_counts WHERE shard <> 0;
DROP TRIGGER user_counts_insert;
DROP TRIGGER user_counts_delete;
DROP TRIGGER user_counts_move;
-- +goose StatementBegin
CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    INSERT INTO user_counts (org_sid, shard, n) VALUES (OLD.org_sid, 0, -1)
        ON CONFLICT (org_sid, shard) DO UPDATE SET n = n - 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_counts_move AFTER UPDATE OF org_sid ON users WHEN NEW.org_sid <> OLD.org_sid BEGIN
    INSERT INTO user_counts (org_sid, shard, n) VALUES (OLD.org_sid, 0, -1)
        ON CONFLICT (org_sid, shard) DO UPDATE SET n = n - 1;
    INSERT INTO user_counts (org_sid, shard, n) VALUES (NEW.org_sid, 0, 1)
        ON CONFLICT (org_sid, shard) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
