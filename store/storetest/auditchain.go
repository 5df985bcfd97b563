package storetest

import (
	"errors"
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// auditChainConcurrent is R-AUDIT-1's hash chain under contention: writers
// append to two organizations' chains at once — renames through the
// service, and transactions that append to both chains in opposite orders
// (which PostgreSQL may answer with a deadlock that InTx retries) — and
// every chain still verifies, its head counting every event. Some writers
// append and then fail: their events vanish with them (on SQLite their
// batch is rolled back and run again without them, in savepoints) and the
// chain goes on from the event before.
func auditChainConcurrent(e *env) {
	t, ctx := e.t, e.ctx
	a := e.signup("owner@chain-a.example")
	b := e.signup("owner@chain-b.example")
	rep, err := e.svc.VerifyAudit(ctx, e.op, nil)
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Status)

	const writers, rounds = 8, 8
	errDeliberate := errors.New("deliberate")
	var fns []func() error
	for w := range writers {
		fns = append(fns, func() error {
			for i := range rounds {
				var err error
				switch w % 4 {
				case 0:
					_, err = e.svc.RenameOrg(ctx, as(a.UserSID), a.OrgSID, fmt.Sprintf("A %d.%d", w, i))
				case 1:
					_, err = e.svc.RenameOrg(ctx, as(b.UserSID), b.OrgSID, fmt.Sprintf("B %d.%d", w, i))
				case 3:
					err = e.st.InTx(ctx, func(tx orgmodel.Tx) error {
						if err := tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: a.OrgSID, Actor: "system", Via: "job",
							Action: "test.failing", Target: fmt.Sprint(w, ".", i), At: e.clock.Now()}); err != nil {
							return err
						}
						if i%2 == 1 {
							return errDeliberate
						}
						return nil
					})
					if errors.Is(err, errDeliberate) {
						err = nil
					}
				default:
					first, second := a.OrgSID, b.OrgSID
					if i%2 == 1 {
						first, second = second, first
					}
					err = e.st.InTx(ctx, func(tx orgmodel.Tx) error {
						for _, org := range []orgmodel.OrgSID{first, second, ""} {
							if err := tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: org, Actor: "system", Via: "job",
								Action: "test.both", Target: fmt.Sprint(w, ".", i), At: e.clock.Now()}); err != nil {
								return err
							}
						}
						return nil
					})
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i, err := range race(fns...) {
		require.NoError(t, err, "writer %d", i)
	}

	rep, err = e.svc.VerifyAudit(ctx, e.op, nil)
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Status)
	require.Nil(t, rep.Broken)
	for _, org := range []orgmodel.OrgSID{a.OrgSID, b.OrgSID, ""} {
		var evs []*orgmodel.AuditEvent
		e.read(func(tx orgmodel.Tx) error {
			var err error
			evs, err = tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, Limit: 1000})
			return err
		})
		if org == "" { // ListAudit without an organization lists every chain
			var own []*orgmodel.AuditEvent
			for _, ev := range evs {
				if ev.OrgSID == "" {
					own = append(own, ev)
				}
			}
			evs = own
		}
		var head *orgmodel.AuditHead
		for _, h := range rep.Heads {
			if h.OrgSID == org {
				head = h
			}
		}
		require.NotNil(t, head, "a head for %q", org)
		if org == a.OrgSID {
			failing := 0
			for _, ev := range evs {
				if ev.Action == "test.failing" {
					failing++
				}
			}
			require.Equal(t, writers/4*rounds/2, failing, "only the events of callers that succeeded stay")
		}
		require.Equal(t, int64(len(evs)), head.Events, "the head of %q counts every event", org)
		require.Equal(t, evs[0].Hash, head.Hash, "the head of %q is its newest event", org)
		for i := 0; i+1 < len(evs); i++ {
			require.Equal(t, evs[i+1].Hash, evs[i].PrevHash, "%q: event %s follows %s", org, evs[i].SID, evs[i+1].SID)
		}
	}
	require.Greater(t, rep.Events, int64(writers*rounds), "the walk saw the events")

	// One chain alone, and a chain without events, verify too.
	rep, err = e.svc.VerifyAudit(ctx, e.op, []orgmodel.OrgSID{a.OrgSID, orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))})
	require.NoError(t, err)
	require.Equal(t, 2, rep.Chains)
	// Only the operator verifies.
	_, err = e.svc.VerifyAudit(ctx, as(a.UserSID), nil)
	require.Equal(t, "R-ROLE-3", orgmodel.RuleOf(err))
}
