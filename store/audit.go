package store

import (
	"context"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

const auditCols = `seq, sid, org_sid, actor, via, remote_addr, action, target, before_json, after_json, at`

func scanAudit(r scanner) (*orgmodel.AuditEvent, error) {
	var e orgmodel.AuditEvent
	err := r.Scan(&e.Seq, &e.SID, &e.OrgSID, &e.Actor, &e.Via, &e.RemoteAddr, &e.Action, &e.Target, &e.Before, &e.After, msTime{&e.At})
	return &e, err
}

func (t *tx) AppendAudit(ctx context.Context, e *orgmodel.AuditEvent) error {
	if e.SID == "" {
		e.SID = orgmodel.AuditSID(orgmodel.NewSID(orgmodel.PrefixAudit))
	}
	err := t.q.QueryRowContext(t.ctx(ctx), t.d.rebind(`INSERT INTO audit_events (sid, org_sid, actor, via, remote_addr, action, target, before_json, after_json, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`),
		e.SID, e.OrgSID, e.Actor, e.Via, e.RemoteAddr, e.Action, e.Target, e.Before, e.After, ms(e.At)).Scan(&e.Seq)
	return t.d.translate(err)
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

func scanMail(r scanner) (*orgmodel.Mail, error) {
	var m orgmodel.Mail
	err := r.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Body, msTime{&m.CreatedAt}, &m.Attempts,
		msTime{&m.NextAttemptAt}, msNull{&m.SentAt}, msNull{&m.LoggedAt}, &m.LastError)
	return &m, err
}

func (t *tx) EnqueueMail(ctx context.Context, m *orgmodel.Mail) error {
	err := t.q.QueryRowContext(t.ctx(ctx), t.d.rebind(`INSERT INTO outbox (kind, to_addr, subject, body, created_at, attempts, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		m.Kind, m.To, m.Subject, m.Body, ms(m.CreatedAt), m.Attempts, ms(m.NextAttemptAt)).Scan(&m.ID)
	return t.d.translate(err)
}

func (t *tx) ClaimMail(ctx context.Context, now, leaseUntil time.Time, n int) ([]*orgmodel.Mail, error) {
	return getAll(ctx, t, scanMail, `UPDATE outbox SET next_attempt_at = ? WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at`+limit(n)+t.d.skipLocked+`)
		RETURNING `+mailCols, ms(leaseUntil), ms(now))
}

func (t *tx) ClaimUnloggedMail(ctx context.Context, now time.Time, n int) ([]*orgmodel.Mail, error) {
	return getAll(ctx, t, scanMail, `UPDATE outbox SET logged_at = ? WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND logged_at IS NULL ORDER BY id`+limit(n)+t.d.skipLocked+`)
		RETURNING `+mailCols, ms(now))
}

func (t *tx) FinishMail(ctx context.Context, m *orgmodel.Mail) error {
	return t.execOne(ctx, `UPDATE outbox SET body = ?, attempts = ?, next_attempt_at = ?, sent_at = ?, last_error = ? WHERE id = ?`,
		m.Body, m.Attempts, ms(m.NextAttemptAt), nms(m.SentAt), m.LastError, m.ID)
}

func (t *tx) ListMail(ctx context.Context, f orgmodel.MailFilter) ([]*orgmodel.Mail, error) {
	w := &where{}
	if f.To != "" {
		w.add("LOWER(to_addr) = LOWER(?)", f.To) // addresses are ASCII (NormalizeEmail)
	}
	if f.Unsent {
		w.add("sent_at IS NULL")
	}
	return getAll(ctx, t, scanMail, `SELECT `+mailCols+` FROM outbox`+w.sql()+` ORDER BY id DESC`+limit(f.Limit), w.args...)
}
