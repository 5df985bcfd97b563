package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const auditCols = `seq, sid, org_sid, actor, via, remote_addr, action, target, before_json, after_json, at, prev_hash, hash`

func scanAudit(r scanner) (*orgmodel.AuditEvent, error) {
	var e orgmodel.AuditEvent
	err := r.Scan(&e.Seq, &e.SID, &e.OrgSID, &e.Actor, &e.Via, &e.RemoteAddr, &e.Action, &e.Target, &e.Before, &e.After, msTime{&e.At}, &e.PrevHash, &e.Hash)
	return &e, err
}

// AppendAudit appends e to its organization's hash chain: the upsert locks
// the chain's head row (PostgreSQL: the row lock of ON CONFLICT DO UPDATE,
// held to commit; SQLite: the one writer), so each chain grows by one
// transaction at a time, and the event and the new head commit together.
func (t *tx) AppendAudit(ctx context.Context, e *orgmodel.AuditEvent) error {
	if e.SID == "" {
		e.SID = orgmodel.AuditSID(orgmodel.NewSID(orgmodel.PrefixAudit))
	}
	e.At = time.UnixMilli(ms(e.At)).UTC()
	var err error
	switch h := t.heads[e.OrgSID]; {
	case t.d.name == "postgres":
		err = t.queryRow(ctx, `INSERT INTO audit_heads (org_sid) VALUES (?)
			ON CONFLICT (org_sid) DO UPDATE SET last_seq = audit_heads.last_seq RETURNING hash`, e.OrgSID).Scan(&e.PrevHash)
	case h != nil:
		e.PrevHash = h.hash // an earlier caller of this batch moved it
	default:
		// SQLite's one writer is the lock: reading the head is enough, and
		// the upsert below (or the batch's, heads.flush) writes it (no
		// head yet: the chain starts).
		err = t.queryRow(ctx, `SELECT hash FROM audit_heads WHERE org_sid = ?`, e.OrgSID).Scan(&e.PrevHash)
		if errors.Is(err, sql.ErrNoRows) {
			e.PrevHash, err = "", nil
		}
	}
	if err != nil {
		return t.d.translate(err)
	}
	e.Hash = orgmodel.AuditHash(e.PrevHash, e)
	const insert = `INSERT INTO audit_events (sid, org_sid, actor, via, remote_addr, action, target, before_json, after_json, at, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{e.SID, e.OrgSID, e.Actor, e.Via, e.RemoteAddr, e.Action, e.Target, e.Before, e.After, ms(e.At), e.PrevHash, e.Hash}
	if t.d.name == "postgres" {
		err = t.queryRow(ctx, insert+` RETURNING seq`, args...).Scan(&e.Seq)
	} else {
		// seq is the rowid. RETURNING would make SQLite collect the row in
		// a temporary table first, on the single writer.
		var r sql.Result
		if r, err = t.exec(ctx, insert, args...); err == nil {
			e.Seq, err = r.LastInsertId()
		}
	}
	if err != nil {
		return t.d.translate(err)
	}
	if t.heads != nil {
		t.heads.moved(e)
		return nil
	}
	return t.writeHead(ctx, e.OrgSID, e.Seq, e.Hash, 1)
}

// writeHead records that org's chain now ends at seq with hash and holds
// added more events.
func (t *tx) writeHead(ctx context.Context, org orgmodel.OrgSID, seq int64, hash string, added int64) error {
	return t.execOne(ctx, `INSERT INTO audit_heads (org_sid, last_seq, hash, events) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_sid) DO UPDATE SET last_seq = excluded.last_seq, hash = excluded.hash, events = audit_heads.events + excluded.events`,
		org, seq, hash, added)
}

// headCache holds the chain heads that a SQLite batch of writes has moved
// and not written yet (batchState): every caller of the batch extends the
// chain from it, and the batch writes each head once, before it commits
// (flush), instead of reading and writing the head row for every event.
type headCache map[orgmodel.OrgSID]*pendingHead

type pendingHead struct {
	seq   int64
	hash  string
	added int64
}

func (c headCache) moved(e *orgmodel.AuditEvent) {
	h := c[e.OrgSID]
	if h == nil {
		h = &pendingHead{}
		c[e.OrgSID] = h
	}
	h.seq, h.hash, h.added = e.Seq, e.Hash, h.added+1
}

// flush writes the cached heads through t and empties the cache.
func (c headCache) flush(ctx context.Context, t *tx) error {
	for _, org := range slices.Sorted(maps.Keys(c)) {
		h := c[org]
		if err := t.writeHead(ctx, org, h.seq, h.hash, h.added); err != nil {
			return err
		}
		delete(c, org)
	}
	return nil
}

func scanHead(r scanner) (*orgmodel.AuditHead, error) {
	var h orgmodel.AuditHead
	err := r.Scan(&h.OrgSID, &h.LastSeq, &h.Hash, &h.Events)
	return &h, err
}

func (t *tx) AuditHeads(ctx context.Context) ([]*orgmodel.AuditHead, error) {
	if err := t.heads.flush(ctx, t); err != nil { // this batch's own appends first
		return nil, err
	}
	heads, err := getAll(ctx, t, scanHead, `SELECT org_sid, last_seq, hash, events FROM audit_heads ORDER BY org_sid`)
	if err != nil {
		return nil, err
	}
	// A chain whose head row is gone still has its events to account for.
	orphans, err := getAll(ctx, t, scanHead, `SELECT DISTINCT e.org_sid, CAST(? AS BIGINT), '', 0 FROM audit_events e
		WHERE NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.org_sid = e.org_sid) ORDER BY e.org_sid`, orgmodel.NoAuditHead)
	if err != nil {
		return nil, err
	}
	return append(heads, orphans...), nil
}

func (t *tx) AuditChain(ctx context.Context, org orgmodel.OrgSID, afterSeq, upToSeq int64, n int) ([]*orgmodel.AuditEvent, error) {
	return getAll(ctx, t, scanAudit, `SELECT `+auditCols+` FROM audit_events
		WHERE org_sid = ? AND seq > ? AND seq <= ? ORDER BY seq`+limit(n), org, afterSeq, upToSeq)
}

func (t *tx) ListAudit(ctx context.Context, f orgmodel.AuditFilter) ([]*orgmodel.AuditEvent, error) {
	w := &where{}
	if f.OrgSID != "" {
		w.add("org_sid = ?", f.OrgSID)
	}
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			w.add("action >= ? AND action < ?", f.Action, f.Action[:len(f.Action)-1]+"/") // '/' sorts right after '.'
		} else {
			w.add("action = ?", f.Action)
		}
	}
	if f.Target != "" {
		w.add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", ms(f.Until))
	}
	if f.BeforeSeq > 0 {
		w.add("seq < ?", f.BeforeSeq)
	}
	return getAll(ctx, t, scanAudit, `SELECT `+auditCols+` FROM audit_events`+w.sql()+` ORDER BY seq DESC`+limit(f.Limit), w.args...)
}

const mailCols = `id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at, logged_at, last_error`

// scanMail scans an outbox entry and opens its sealed body.
func (t *tx) scanMail(r scanner) (*orgmodel.Mail, error) {
	m, err := scanMailRow(r)
	if err != nil {
		return nil, err
	}
	if m.Body, err = t.keys.open("outbox.body", m.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func scanMailRow(r scanner) (*orgmodel.Mail, error) {
	var m orgmodel.Mail
	err := r.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Body, msTime{&m.CreatedAt}, &m.Attempts,
		msTime{&m.NextAttemptAt}, msNull{&m.SentAt}, msNull{&m.LoggedAt}, &m.LastError)
	return &m, err
}

func (t *tx) EnqueueMail(ctx context.Context, m *orgmodel.Mail) error {
	err := t.q.QueryRowContext(t.ctx(ctx), t.d.rebind(`INSERT INTO outbox (kind, to_addr, subject, body, created_at, attempts, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		m.Kind, m.To, m.Subject, t.keys.seal("outbox.body", m.Body), ms(m.CreatedAt), m.Attempts, ms(m.NextAttemptAt)).Scan(&m.ID)
	return t.d.translate(err)
}

func (t *tx) ClaimMail(ctx context.Context, now, leaseUntil time.Time, n int) ([]*orgmodel.Mail, error) {
	return getAll(ctx, t, t.scanMail, `UPDATE outbox SET next_attempt_at = ? WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at`+limit(n)+t.d.skipLocked+`)
		RETURNING `+mailCols, ms(leaseUntil), ms(now))
}

func (t *tx) ClaimUnloggedMail(ctx context.Context, now time.Time, n int) ([]*orgmodel.Mail, error) {
	return getAll(ctx, t, t.scanMail, `UPDATE outbox SET logged_at = ? WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND logged_at IS NULL ORDER BY id`+limit(n)+t.d.skipLocked+`)
		RETURNING `+mailCols, ms(now))
}

func (t *tx) FinishMail(ctx context.Context, m *orgmodel.Mail) error {
	return t.execOne(ctx, `UPDATE outbox SET body = ?, attempts = ?, next_attempt_at = ?, sent_at = ?, last_error = ? WHERE id = ?`,
		t.keys.seal("outbox.body", m.Body), m.Attempts, ms(m.NextAttemptAt), nms(m.SentAt), m.LastError, m.ID)
}

func (t *tx) ListMail(ctx context.Context, f orgmodel.MailFilter) ([]*orgmodel.Mail, error) {
	w := &where{}
	if f.To != "" {
		w.add("LOWER(to_addr) = LOWER(?)", f.To) // addresses are ASCII (NormalizeEmail)
	}
	if f.Unsent {
		w.add("sent_at IS NULL")
	}
	return getAll(ctx, t, t.scanMail, `SELECT `+mailCols+` FROM outbox`+w.sql()+` ORDER BY id DESC`+limit(f.Limit), w.args...)
}

// chainAudit is migration 00061: it chains the audit events written before
// the chain existed (hash ”), in seq order per organization, and writes
// each chain's head. The audit table's trigger allows exactly this update
// (migration 00060).
func chainAudit(ctx context.Context, q *sql.Tx, d *dialect) error {
	heads := map[orgmodel.OrgSID]*orgmodel.AuditHead{}
	var after int64
	for {
		rows, err := q.QueryContext(ctx, d.rebind(`SELECT `+auditCols+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 5000`), after)
		if err != nil {
			return err
		}
		var page []*orgmodel.AuditEvent
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			page = append(page, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range page {
			h := heads[e.OrgSID]
			if h == nil {
				h = &orgmodel.AuditHead{OrgSID: e.OrgSID}
				heads[e.OrgSID] = h
			}
			if e.Hash == "" {
				e.PrevHash = h.Hash
				e.Hash = orgmodel.AuditHash(e.PrevHash, e)
				if _, err := q.ExecContext(ctx, d.rebind(`UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?`), e.PrevHash, e.Hash, e.Seq); err != nil {
					return err
				}
			}
			h.Hash, h.LastSeq = e.Hash, e.Seq
			h.Events++
			after = e.Seq
		}
		if len(page) < 5000 {
			break
		}
	}
	for _, h := range heads {
		if _, err := q.ExecContext(ctx, d.rebind(`INSERT INTO audit_heads (org_sid, last_seq, hash, events) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_sid) DO UPDATE SET last_seq = excluded.last_seq, hash = excluded.hash, events = excluded.events`),
			h.OrgSID, h.LastSeq, h.Hash, h.Events); err != nil {
			return err
		}
	}
	return nil
}
