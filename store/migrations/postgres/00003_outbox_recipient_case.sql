-- +goose Up
-- ListMail finds a recipient's mail without regard to case
-- (LOWER(to_addr) = LOWER(?)), which the plain index outbox_to cannot
-- serve: every look-up read the whole outbox. Index the lower-cased
-- address instead.
CREATE INDEX outbox_to_lower ON outbox (lower(to_addr), id);
DROP INDEX outbox_to;

-- +goose Down
SELECT 'down migrations are not supported; restore a backup';
