package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// faultyStore hands every transaction a Tx that fails at the nth call of
// one write method: before the write reaches the database or, with after,
// once it has. Each attempt of a retried transaction counts afresh.
type faultyStore struct {
	orgmodel.Store
	method string
	nth    int
	after  bool
	fired  atomic.Bool
}

func (f *faultyStore) String() string {
	when := "before"
	if f.after {
		when = "after"
	}
	return fmt.Sprintf("%s #%d fails %s writing", f.method, f.nth, when)
}

func (f *faultyStore) InTx(ctx context.Context, fn func(orgmodel.Tx) error) error {
	return f.Store.InTx(ctx, func(tx orgmodel.Tx) error { return fn(&faultyTx{Tx: tx, f: f}) })
}

type faultyTx struct {
	orgmodel.Tx
	f     *faultyStore
	calls int
}

func (t *faultyTx) write(method string, do func() error) error {
	if method != t.f.method {
		return do()
	}
	t.calls++
	if t.calls != t.f.nth {
		return do()
	}
	t.f.fired.Store(true)
	if t.f.after {
		if err := do(); err != nil {
			return err
		}
	}
	return errInjected
}

func (t *faultyTx) UpdateOrg(ctx context.Context, o *orgmodel.Org) error {
	return t.write("UpdateOrg", func() error { return t.Tx.UpdateOrg(ctx, o) })
}

func (t *faultyTx) DeleteOrg(ctx context.Context, sid orgmodel.OrgSID) error {
	return t.write("DeleteOrg", func() error { return t.Tx.DeleteOrg(ctx, sid) })
}

func (t *faultyTx) UpdateUser(ctx context.Context, u *orgmodel.User) error {
	return t.write("UpdateUser", func() error { return t.Tx.UpdateUser(ctx, u) })
}

func (t *faultyTx) MoveUsers(ctx context.Context, from, to orgmodel.OrgSID, now time.Time) (n int, err error) {
	err = t.write("MoveUsers", func() (err error) { n, err = t.Tx.MoveUsers(ctx, from, to, now); return err })
	return n, err
}

func (t *faultyTx) MoveAccounts(ctx context.Context, from, to orgmodel.OrgSID, now time.Time) (n int, err error) {
	err = t.write("MoveAccounts", func() (err error) { n, err = t.Tx.MoveAccounts(ctx, from, to, now); return err })
	return n, err
}

func (t *faultyTx) MoveGrants(ctx context.Context, from, to orgmodel.OrgSID) error {
	return t.write("MoveGrants", func() error { return t.Tx.MoveGrants(ctx, from, to) })
}

func (t *faultyTx) DeleteLink(ctx context.Context, org orgmodel.OrgSID, acct orgmodel.AccountSID) error {
	return t.write("DeleteLink", func() error { return t.Tx.DeleteLink(ctx, org, acct) })
}

func (t *faultyTx) EndUserSessions(ctx context.Context, user orgmodel.UserSID, reason string, now time.Time) (n int, err error) {
	err = t.write("EndUserSessions", func() (err error) { n, err = t.Tx.EndUserSessions(ctx, user, reason, now); return err })
	return n, err
}

func (t *faultyTx) AppendAudit(ctx context.Context, e *orgmodel.AuditEvent) error {
	return t.write("AppendAudit", func() error { return t.Tx.AppendAudit(ctx, e) })
}

// failedMergeChangesNothing is R-MERGE-7: a merge that fails at any write
// — the first, half-way after the users moved, the deletion of the
// candidate, the last audit event — leaves both organizations exactly as
// they were. The same merge then succeeds, so the failures were the
// injected ones.
func failedMergeChangesNothing(e *env) {
	t, ctx, op := e.t, e.ctx, e.op
	prime := e.signup("owner@prime.example")
	// The candidate's Owner has an email on the prime's domain (R-MERGE-3).
	cand := e.signup("boss@prime.example")
	// Its people came in through a domain it has since removed (R-MERGE-4).
	e.verified(cand.OrgSID, "cand.example")
	admin := e.member(cand.OrgSID, "admin@cand.example", orgmodel.RoleAdministrator)
	std := e.member(cand.OrgSID, "std@cand.example", orgmodel.RoleStandard)
	_, err := e.svc.GrantAccess(ctx, op, cand.AccountSID, std, "support")
	require.NoError(t, err)
	_, err = e.svc.CreateSubaccount(ctx, op, cand.AccountSID, "Sub")
	require.NoError(t, err)
	own, err := e.svc.CreateAccount(ctx, as(std), cand.OrgSID, "Standard's own", "")
	require.NoError(t, err)
	_, err = e.svc.CreateAPIKey(ctx, op, own.SID, "ci")
	require.NoError(t, err)
	_, err = e.svc.CreateSCIMToken(ctx, op, cand.OrgSID, "")
	require.NoError(t, err)
	_, err = e.svc.InviteUser(ctx, op, orgmodel.InviteInput{OrgSID: cand.OrgSID, Email: "later@cand.example"})
	require.NoError(t, err)
	_, _, err = e.svc.StartSession(ctx, op, std, "password")
	require.NoError(t, err)
	require.NoError(t, e.svc.RemoveDomain(ctx, op, cand.OrgSID, "cand.example"))
	_, err = e.svc.AddDomain(ctx, op, cand.OrgSID, "unverified.example")
	require.NoError(t, err)
	e.verified(prime.OrgSID, "prime.example")
	// The prime holds one of the candidate's accounts as independent: the
	// merge drops that link.
	_, err = e.svc.LinkAccount(ctx, as(admin), own.SID, prime.OrgSID)
	require.NoError(t, err)
	pre, err := e.svc.PreflightMerge(ctx, as(prime.UserSID), prime.OrgSID, cand.OrgSID)
	require.NoError(t, err)
	require.True(t, pre.OK, "the merge is allowed: %+v", pre.Checks)

	faults := []*faultyStore{
		{method: "UpdateUser", nth: 1, after: true},      // the first write: the candidate's Owner demoted
		{method: "MoveAccounts", nth: 1},                 // half-way: the users have moved
		{method: "MoveGrants", nth: 1, after: true},      // accounts moved too
		{method: "DeleteLink", nth: 1, after: true},      // the prime's link dropped
		{method: "DeleteOrg", nth: 1, after: true},       // the candidate gone
		{method: "AppendAudit", nth: 3, after: true},     // the very last write
		{method: "EndUserSessions", nth: 1, after: true}, // not reached: fails nothing
	}
	for _, f := range faults[:len(faults)-1] {
		f.Store = e.st
		before := []*orgState{e.snapshot(prime.OrgSID), e.snapshot(cand.OrgSID)}
		_, err := e.serviceOn(f).MergeOrgs(ctx, as(prime.UserSID), prime.OrgSID, cand.OrgSID)
		require.ErrorIs(t, err, errInjected, "%s", f)
		require.True(t, f.fired.Load(), "%s: the fault was reached", f)
		after := []*orgState{e.snapshot(prime.OrgSID), e.snapshot(cand.OrgSID)}
		require.Equal(t, before, after, "%s: both organizations are exactly as they were", f)
	}

	// The prime enforces no SSO, so no session is ended: a fault there never fires.
	last := faults[len(faults)-1]
	last.Store = e.st
	res, err := e.serviceOn(last).MergeOrgs(ctx, as(prime.UserSID), prime.OrgSID, cand.OrgSID)
	require.NoError(t, err)
	require.False(t, last.fired.Load())
	require.Equal(t, 3, res.UsersMoved)
	require.Equal(t, 2, res.AccountsMoved)
	gone := e.snapshot(cand.OrgSID)
	require.Nil(t, gone.Org, "the candidate no longer exists (R-MERGE-5)")
	require.Empty(t, gone.Users)
	require.Empty(t, gone.Accounts)
	require.Empty(t, gone.Domains, "its unverified domain went with it")
	require.NotEmpty(t, gone.Audit, "its audit log outlives it (R-AUDIT-1)")
	merged := e.snapshot(prime.OrgSID)
	require.Len(t, merged.Users, 4)
	require.Len(t, merged.Accounts, 4, "two accounts, a subaccount and the prime's own")
	require.Empty(t, merged.Links, "the prime's link to an account it now manages is gone")
	for _, u := range merged.Users {
		if u.SID == cand.UserSID {
			require.Equal(t, orgmodel.RoleAdministrator, u.Role, "the candidate's Owner is an Administrator of the prime")
		}
	}
}

// auditWithTheChange is R-AUDIT-1 as far as the store carries it: an event
// is written in the transaction of its change — neither exists without the
// other — events of concurrent transactions get distinct, increasing
// sequence numbers, and events outlive the organization they describe.
func auditWithTheChange(e *env) {
	t, ctx := e.t, e.ctx
	r := e.signup("owner@audit.example")
	who := orgmodel.Actor{UserSID: r.UserSID, Via: "console", RemoteAddr: "198.51.100.7"}
	_, err := e.svc.RenameOrg(ctx, who, r.OrgSID, "Renamed")
	require.NoError(t, err)
	events := func() []*orgmodel.AuditEvent {
		var evs []*orgmodel.AuditEvent
		e.read(func(tx orgmodel.Tx) error {
			var err error
			evs, err = tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "org.rename"})
			return err
		})
		return evs
	}
	evs := events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, string(r.UserSID), ev.Actor, "who")
	require.Equal(t, string(r.OrgSID), ev.Target, "what")
	require.Equal(t, e.clock.Now(), ev.At, "when")
	require.Equal(t, "198.51.100.7", ev.RemoteAddr, "from where")
	require.Equal(t, "console", ev.Via)
	require.Contains(t, ev.Before, `"friendly_name":"owner@audit.example"`, "before")
	require.Contains(t, ev.After, `"friendly_name":"Renamed"`, "after")

	for _, f := range []*faultyStore{
		{method: "UpdateOrg", nth: 1},                // the change fails: no event
		{method: "AppendAudit", nth: 1, after: true}, // the event fails: no change
	} {
		f.Store = e.st
		_, err := e.serviceOn(f).RenameOrg(ctx, who, r.OrgSID, "Lost")
		require.ErrorIs(t, err, errInjected, "%s", f)
		require.Len(t, events(), 1, "%s", f)
		e.read(func(tx orgmodel.Tx) error {
			o, err := tx.GetOrg(ctx, r.OrgSID)
			require.NoError(t, err)
			require.Equal(t, "Renamed", o.FriendlyName, "%s", f)
			return nil
		})
	}
	// A refused change writes no event either.
	_, err = e.svc.RenameOrg(ctx, orgmodel.Actor{AccountSID: r.AccountSID, Via: "api"}, r.OrgSID, "Refused")
	require.Error(t, err)
	require.Len(t, events(), 1)

	// Concurrent transactions: every event gets its own, increasing Seq.
	const writers, each = 4, 10
	var fns []func() error
	for w := range writers {
		fns = append(fns, func() error {
			for i := range each {
				err := e.st.InTx(ctx, func(tx orgmodel.Tx) error {
					return tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: "ORconcurrent", Actor: fmt.Sprint(w), Via: "test",
						Action: "test.append", Target: fmt.Sprint(i), At: e.clock.Now()})
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, err := range race(fns...) {
		require.NoError(t, err)
	}
	e.read(func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: "ORconcurrent"})
		require.NoError(t, err)
		require.Len(t, evs, writers*each)
		sids := map[orgmodel.AuditSID]bool{}
		for i, ev := range evs {
			sids[ev.SID] = true
			if i > 0 {
				require.Less(t, ev.Seq, evs[i-1].Seq, "newest first, each Seq once")
			}
		}
		require.Len(t, sids, writers*each, "each event has its own SID")
		return nil
	})

	// Events outlive the organization they describe (no foreign key).
	o := &orgmodel.Org{SID: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), FriendlyName: "brief",
		OwnerSID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), AccountLimit: 1, CreatedAt: at(0), UpdatedAt: at(0)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.CreateOrg(ctx, o))
		require.NoError(t, tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: o.SID, Actor: "operator", Via: "cli", Action: "org.create", Target: string(o.SID), At: at(0)}))
		return nil
	})
	e.inTx(func(tx orgmodel.Tx) error { return tx.DeleteOrg(ctx, o.SID) })
	e.read(func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: o.SID})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		return nil
	})
}
