package orgmodel

import (
	"context"
	"time"
)

// MailSender delivers one mail; an error means it was not accepted.
type MailSender interface {
	Send(ctx context.Context, m *Mail) error
}

// Outbox delivery timing.
const (
	mailLease      = 2 * time.Minute // a claimed mail is not retried by others for this long
	mailBackoffMin = 30 * time.Second
	mailBackoffMax = time.Hour
)

// mailBackoff is the wait before attempt n+1 (n ≥ 1): doubling from
// mailBackoffMin, capped at mailBackoffMax. Mail is never given up on.
func mailBackoff(n int) time.Duration {
	d := mailBackoffMin
	for i := 1; i < n && d < mailBackoffMax; i++ {
		d *= 2
	}
	return min(d, mailBackoffMax)
}

// DeliverMail sends up to limit due outbox mails through sender. Each mail
// is claimed first (so that replicas never send the same one), then sent
// outside any transaction, then recorded as sent (its body, which may hold
// a link token, is erased) or rescheduled with backoff. It returns how many
// were sent.
func (s *Service) DeliverMail(ctx context.Context, sender MailSender, limit int) (int, error) {
	now := s.Now()
	var batch []*Mail
	if err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		batch, err = tx.ClaimMail(ctx, now, now.Add(mailLease), limit)
		return err
	}); err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range batch {
		err := sender.Send(ctx, m)
		m.Attempts++
		done := s.Now()
		if err == nil {
			m.SentAt, m.Body, m.LastError = &done, "", ""
			sent++
		} else {
			m.LastError = truncate(err.Error(), 500)
			m.NextAttemptAt = done.Add(mailBackoff(m.Attempts))
		}
		if ferr := s.store.InTx(ctx, func(tx Tx) error { return tx.FinishMail(ctx, m) }); ferr != nil {
			return sent, ferr
		}
	}
	return sent, nil
}

// LogMail writes each outbox mail not yet logged to logf, once, and keeps
// it in the outbox: the operator's way to read mail when no SMTP server is
// configured (`orgd mail list`). It returns how many it logged.
func (s *Service) LogMail(ctx context.Context, logf func(*Mail), limit int) (int, error) {
	var batch []*Mail
	if err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		batch, err = tx.ClaimUnloggedMail(ctx, s.Now(), limit)
		return err
	}); err != nil {
		return 0, err
	}
	for _, m := range batch {
		logf(m)
	}
	return len(batch), nil
}

// ListMail lists the outbox for the operator.
func (s *Service) ListMail(ctx context.Context, a Actor, f MailFilter) ([]*Mail, error) {
	if !a.Operator {
		return nil, &RuleError{Kind: KindForbidden, Msg: "only the operator reads the outbox"}
	}
	switch {
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit < 0 || f.Limit > 1000:
		return nil, Invalid("limit", "limit %d is out of range (1 to 1000)", f.Limit)
	}
	var out []*Mail
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListMail(ctx, f)
		return err
	})
	return out, err
}

// ExpireImports drops pending imports older than ImportTTL: after 7 days
// nothing changes (R-ACCT-3). It returns how many expired.
func (s *Service) ExpireImports(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		links, err := tx.DeleteExpiredLinks(ctx, s.Now(), limit)
		if err != nil {
			return err
		}
		n = len(links)
		for _, l := range links {
			if err := s.audit(ctx, tx, SystemActor, l.OrgSID, "account.import_expire", string(l.AccountSID), l, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
