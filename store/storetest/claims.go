package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// claimMail checks the outbox claims that let several senders share it:
// concurrent claims take disjoint mails, a claimed mail is not claimed
// again before its lease ends, and FinishMail takes a sent mail out.
func claimMail(e *env) {
	t, ctx := e.t, e.ctx
	now := at(0)
	lease := now.Add(2 * time.Minute)
	const total = 20
	ids := map[int64]bool{}
	e.inTx(func(tx orgmodel.Tx) error {
		for i := range total {
			m := &orgmodel.Mail{Kind: "invitation", To: fmt.Sprintf("u%d@x.example", i), Subject: "s", Body: "b",
				CreatedAt: now, NextAttemptAt: now.Add(-time.Duration(i) * time.Second)}
			require.NoError(t, tx.EnqueueMail(ctx, m))
			ids[m.ID] = true
		}
		later := &orgmodel.Mail{Kind: "invitation", To: "later@x.example", Subject: "s", Body: "b",
			CreatedAt: now, NextAttemptAt: now.Add(time.Hour)} // not due yet
		return tx.EnqueueMail(ctx, later)
	})
	claim := func(at time.Time, n int) ([]*orgmodel.Mail, error) {
		var got []*orgmodel.Mail
		err := e.st.InTx(ctx, func(tx orgmodel.Tx) error {
			var err error
			got, err = tx.ClaimMail(ctx, at, lease, n)
			return err
		})
		return got, err
	}
	results := make([][]*orgmodel.Mail, 3)
	errs := race(
		func() (err error) { results[0], err = claim(now, 8); return err },
		func() (err error) { results[1], err = claim(now, 8); return err },
		func() (err error) { results[2], err = claim(now, 8); return err },
	)
	require.NoError(t, errors.Join(errs...))
	claimed := map[int64]bool{}
	for _, r := range results {
		require.LessOrEqual(t, len(r), 8)
		for _, m := range r {
			require.True(t, ids[m.ID], "only due mails are claimed")
			require.False(t, claimed[m.ID], "mail %d claimed twice", m.ID)
			claimed[m.ID] = true
			require.Equal(t, lease.UTC(), m.NextAttemptAt, "the claim pushes the next attempt to the lease's end")
		}
	}
	rest, err := claim(now, total)
	require.NoError(t, err)
	for _, m := range rest {
		require.False(t, claimed[m.ID], "mail %d claimed twice", m.ID)
		claimed[m.ID] = true
	}
	require.Len(t, claimed, total, "every due mail is claimed once")
	none, err := claim(lease.Add(-time.Millisecond), total)
	require.NoError(t, err)
	require.Empty(t, none, "nothing is claimed again before its lease ends")

	// After the lease, unsent mails are due again; a sent one never is.
	again, err := claim(lease, 1)
	require.NoError(t, err)
	require.Len(t, again, 1)
	m := again[0]
	m.Attempts, m.SentAt, m.Body = m.Attempts+1, ptr(lease), ""
	e.inTx(func(tx orgmodel.Tx) error { return tx.FinishMail(ctx, m) })
	all, err := claim(lease.Add(time.Hour), 2*total)
	require.NoError(t, err)
	require.Len(t, all, total, "after the lease: the other unsent mails and the one not due before")
	for _, x := range all {
		require.NotEqual(t, m.ID, x.ID, "a sent mail is never claimed")
	}
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.ListMail(ctx, orgmodel.MailFilter{To: m.To})
		require.NoError(t, err)
		require.Len(t, got, 1)
		same(t, m, got[0], "FinishMail")
		return nil
	})

	// Logging without SMTP: concurrent claims log each mail once.
	logged := make([][]*orgmodel.Mail, 2)
	errs = race(
		func() error {
			return e.st.InTx(ctx, func(tx orgmodel.Tx) (err error) { logged[0], err = tx.ClaimUnloggedMail(ctx, now, 12); return err })
		},
		func() error {
			return e.st.InTx(ctx, func(tx orgmodel.Tx) (err error) { logged[1], err = tx.ClaimUnloggedMail(ctx, now, 12); return err })
		},
	)
	require.NoError(t, errors.Join(errs...))
	seen := map[int64]bool{}
	for _, l := range logged {
		for _, x := range l {
			require.False(t, seen[x.ID], "mail %d logged twice", x.ID)
			seen[x.ID] = true
			require.Equal(t, ptr(now.UTC()), x.LoggedAt)
			require.NotEqual(t, m.ID, x.ID, "a sent mail is not logged")
		}
	}
	var more []*orgmodel.Mail
	e.inTx(func(tx orgmodel.Tx) (err error) { more, err = tx.ClaimUnloggedMail(ctx, now, 100); return err })
	for _, x := range more {
		require.False(t, seen[x.ID], "mail %d logged twice", x.ID)
		seen[x.ID] = true
	}
	require.Len(t, seen, total, "every unsent mail is logged once")
}

// claimDomainChecks checks that replicas re-checking domains take
// disjoint batches of due, verified domains.
func claimDomainChecks(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("dns")
	now := at(48 * time.Hour)
	due := now.Add(-orgmodel.DomainRecheck)
	var wantDue []orgmodel.DomainSID
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		for i := range 17 {
			d := newDomain(o.SID, fmt.Sprintf("d%d.dns.example", i))
			switch i % 4 {
			case 0: // never checked
				d.CheckedAt = nil
				wantDue = append(wantDue, d.SID)
			case 1: // checked recently: not due
				d.CheckedAt = ptr(now.Add(-time.Hour))
			case 2: // unverified: never re-checked
				d.Status, d.VerifiedAt = orgmodel.DomainUnverified, nil
			default:
				d.CheckedAt = ptr(due.Add(-time.Duration(i) * time.Minute))
				wantDue = append(wantDue, d.SID)
			}
			require.NoError(t, tx.CreateDomain(ctx, d))
		}
		return nil
	})
	claim := func(n int) ([]*orgmodel.Domain, error) {
		var got []*orgmodel.Domain
		err := e.st.InTx(ctx, func(tx orgmodel.Tx) (err error) { got, err = tx.ClaimDomainChecks(ctx, due, now, n); return err })
		return got, err
	}
	results := make([][]*orgmodel.Domain, 2)
	errs := race(
		func() (err error) { results[0], err = claim(3); return err },
		func() (err error) { results[1], err = claim(3); return err },
	)
	require.NoError(t, errors.Join(errs...))
	rest, err := claim(100)
	require.NoError(t, err)
	claimed := map[orgmodel.DomainSID]bool{}
	for _, r := range append(results, rest) {
		for _, d := range r {
			require.False(t, claimed[d.SID], "domain %s claimed twice", d.Name)
			claimed[d.SID] = true
			require.Equal(t, orgmodel.DomainVerified, d.Status)
			require.Equal(t, ptr(now.UTC()), d.CheckedAt, "the claim marks the domain checked now")
		}
	}
	require.Len(t, claimed, len(wantDue))
	for _, sid := range wantDue {
		require.True(t, claimed[sid], "due domain %s claimed", sid)
	}
	none, err := claim(100)
	require.NoError(t, err)
	require.Empty(t, none, "a claimed domain is not due again until the next round")
}

// claimExpiredLinks checks that replicas expiring imports take disjoint
// batches: each expired pending link is removed (and so audited) by one
// transaction only, and links not expired or not pending stay.
func claimExpiredLinks(e *env) {
	t, ctx := e.t, e.ctx
	home, owner := newOrg("exporter")
	imp, impOwner := newOrg("expirer")
	now := at(30 * 24 * time.Hour)
	const total = 13
	want := map[orgmodel.AccountSID]bool{}
	var keep []*orgmodel.AccountLink
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, home, owner))
		require.NoError(t, e.createOrg(tx, imp, impOwner))
		for i := range total + 2 {
			a := newAccount(home.SID, owner.SID, "")
			require.NoError(t, tx.CreateAccount(ctx, a))
			l := &orgmodel.AccountLink{OrgSID: imp.SID, AccountSID: a.SID, Relation: orgmodel.RelationPending,
				RequestedBy: "operator", TokenHash: orgmodel.HashToken(fmt.Sprintf("imp_x%d", i)),
				ExpiresAt: ptr(now.Add(-time.Duration(i+1) * time.Minute)), CreatedAt: at(0)}
			switch i {
			case total: // not expired yet
				l.ExpiresAt = ptr(now.Add(time.Minute))
				keep = append(keep, l)
			case total + 1: // independent: never expires
				l.Relation, l.TokenHash, l.ExpiresAt = orgmodel.RelationIndependent, "", nil
				keep = append(keep, l)
			default:
				want[a.SID] = true
			}
			require.NoError(t, tx.PutLink(ctx, l))
		}
		return nil
	})
	expire := func(n int) ([]*orgmodel.AccountLink, error) {
		var got []*orgmodel.AccountLink
		err := e.st.InTx(ctx, func(tx orgmodel.Tx) (err error) { got, err = tx.DeleteExpiredLinks(ctx, now, n); return err })
		return got, err
	}
	results := make([][]*orgmodel.AccountLink, 3)
	errs := race(
		func() (err error) { results[0], err = expire(4); return err },
		func() (err error) { results[1], err = expire(4); return err },
		func() (err error) { results[2], err = expire(4); return err },
	)
	require.NoError(t, errors.Join(errs...))
	rest, err := expire(100)
	require.NoError(t, err)
	gone := map[orgmodel.AccountSID]bool{}
	for _, r := range append(results, rest) {
		require.LessOrEqual(t, len(r), 100)
		for _, l := range r {
			require.False(t, gone[l.AccountSID], "link of %s expired twice", l.AccountSID)
			require.True(t, want[l.AccountSID], "only expired pending links expire (got %s)", l.AccountSID)
			gone[l.AccountSID] = true
		}
	}
	require.Len(t, gone, total, "every expired link expires once")
	none, err := expire(100)
	require.NoError(t, err)
	require.Empty(t, none)
	e.read(func(tx orgmodel.Tx) error {
		ls, err := tx.ListLinks(ctx, imp.SID, "")
		require.NoError(t, err)
		require.Len(t, ls, len(keep), "the links not due stay")
		return nil
	})
}
