package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// chainFixture writes a few events to two organizations' chains (and the
// chain of events without one) and returns the DB, a service over it and
// the first organization's events in seq order.
func chainFixture(t *testing.T, dsn string) (*DB, *orgmodel.Service, orgmodel.OrgSID, []*orgmodel.AuditEvent) {
	t.Helper()
	ctx := t.Context()
	db := open(t, dsn)
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "https://orgd.test"})
	orgA := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	orgB := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	at := time.UnixMilli(1_700_000_000_000).UTC()
	for i := range 6 {
		for _, org := range []orgmodel.OrgSID{orgA, orgB, ""} {
			require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
				return tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: org, Actor: "operator", Via: "cli", Action: "org.rename",
					Target: string(org), Before: fmt.Sprintf(`{"n":%d}`, i), After: fmt.Sprintf(`{"n":%d}`, i+1), At: at.Add(time.Duration(i) * time.Second)})
			}))
		}
	}
	rep, err := svc.VerifyAudit(ctx, orgmodel.OperatorActor("cli"), nil)
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Status)
	require.Equal(t, 3, rep.Chains)
	require.Equal(t, int64(18), rep.Events)
	var evs []*orgmodel.AuditEvent
	require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) (err error) {
		evs, err = tx.AuditChain(ctx, orgA, 0, orgmodel.NoAuditHead, 100)
		return err
	}))
	require.Len(t, evs, 6)
	return db, svc, orgA, evs
}

// tamper runs SQL as someone with write access to the database would,
// after switching off the append-only triggers.
func tamper(t *testing.T, db *DB, stmts ...string) {
	t.Helper()
	ctx := t.Context()
	if db.Dialect() == "postgres" {
		stmts = append([]string{`ALTER TABLE audit_events DISABLE TRIGGER USER`}, stmts...)
	} else {
		stmts = append([]string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}, stmts...)
	}
	for _, q := range stmts {
		_, err := db.w.ExecContext(ctx, db.d.rebind(q))
		require.NoError(t, err, q)
	}
}

// TestRule_AUDIT_1_VerifyNamesTheFirstBrokenLink tampers with the audit
// log as an attacker with the database would — a changed event, a
// removed one, two swapped, the newest removed, the head removed — and
// `VerifyAudit` (orgd audit verify) names the first link that breaks.
func TestRule_AUDIT_1_VerifyNamesTheFirstBrokenLink(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		cases := []struct {
			name string
			// do tampers with the events of the organization; it returns
			// the event the break must be reported at ("" for the head).
			do     func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID
			reason string
		}{
			{"changed JSON", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				tamper(t, db, fmt.Sprintf(`UPDATE audit_events SET after_json = '{"n":99}' WHERE seq = %d`, evs[2].Seq))
				return evs[2].SID
			}, "was changed"},
			{"changed actor and rehashed alone", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				ev := *evs[3]
				ev.Actor = "mallory"
				tamper(t, db, fmt.Sprintf(`UPDATE audit_events SET actor = 'mallory', hash = '%s' WHERE seq = %d`, orgmodel.AuditHash(ev.PrevHash, &ev), ev.Seq))
				return evs[4].SID // its own hash holds; the next link does not
			}, "changed, removed or moved"},
			{"deleted", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				tamper(t, db, fmt.Sprintf(`DELETE FROM audit_events WHERE seq = %d`, evs[1].Seq))
				return evs[2].SID
			}, "changed, removed or moved"},
			{"first deleted", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				tamper(t, db, fmt.Sprintf(`DELETE FROM audit_events WHERE seq = %d`, evs[0].Seq))
				return evs[1].SID
			}, "were removed"},
			{"reordered", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				// Swap the seq of two events: each keeps its content and
				// hashes, but the chain now runs 0, 1, 3, 2, 4, 5.
				tamper(t, db,
					fmt.Sprintf(`UPDATE audit_events SET seq = -1 WHERE seq = %d`, evs[2].Seq),
					fmt.Sprintf(`UPDATE audit_events SET seq = %d WHERE seq = %d`, evs[2].Seq, evs[3].Seq),
					fmt.Sprintf(`UPDATE audit_events SET seq = %d WHERE seq = -1`, evs[3].Seq))
				return evs[3].SID
			}, "changed, removed or moved"},
			{"newest deleted", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				tamper(t, db, fmt.Sprintf(`DELETE FROM audit_events WHERE seq = %d`, evs[5].Seq))
				return ""
			}, "events were removed"},
			{"head deleted", func(db *DB, evs []*orgmodel.AuditEvent) orgmodel.AuditSID {
				tamper(t, db, fmt.Sprintf(`DELETE FROM audit_heads WHERE org_sid = '%s'`, evs[0].OrgSID))
				return ""
			}, "its head records 0"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := t.Context()
				dsn := dsn
				if c.name != cases[0].name { // a fresh database per case
					if db := open(t, dsn); db.Dialect() == "postgres" {
						dsn = NewPostgresDSN(t)
					} else {
						dsn = NewSQLiteDSN(t)
					}
				}
				db, svc, org, evs := chainFixture(t, dsn)
				want := c.do(db, evs)
				for _, orgs := range [][]orgmodel.OrgSID{nil, {org}} {
					rep, err := svc.VerifyAudit(ctx, orgmodel.OperatorActor("cli"), orgs)
					require.Error(t, err)
					require.Equal(t, "R-AUDIT-1", orgmodel.RuleOf(err))
					require.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
					require.NotNil(t, rep)
					require.Equal(t, "broken", rep.Status)
					require.Equal(t, org, rep.Broken.OrgSID, "the broken chain is named")
					require.Equal(t, want, rep.Broken.EventSID, "the first broken link is named")
					require.Contains(t, rep.Broken.Reason, c.reason)
					require.Contains(t, err.Error(), string(org))
					if want != "" {
						require.Contains(t, err.Error(), string(want))
					}
				}
				// The other chains still verify.
				rep, err := svc.VerifyAudit(ctx, orgmodel.OperatorActor("cli"), []orgmodel.OrgSID{""})
				require.NoError(t, err)
				require.Equal(t, int64(6), rep.Events)
			})
		}
	})
}

// TestAuditChainBackfill chains events written before the chain existed
// (an empty hash), as migration 00061 does on an existing database, and new
// events continue the chain.
func TestAuditChainBackfill(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		db := open(t, dsn)
		svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "https://orgd.test"})
		org := orgmodel.NewSID(orgmodel.PrefixOrg)
		for i := range 5 {
			_, err := db.w.ExecContext(ctx, db.d.rebind(`INSERT INTO audit_events (sid, org_sid, actor, via, action, target, after_json, at)
				VALUES (?, ?, 'operator', 'cli', 'org.rename', 'x', ?, ?)`), orgmodel.NewSID(orgmodel.PrefixAudit), org, fmt.Sprintf(`{"n":%d}`, i), 1_700_000_000_000+i)
			require.NoError(t, err)
		}
		_, err := svc.VerifyAudit(ctx, orgmodel.OperatorActor("cli"), nil)
		require.Equal(t, "R-AUDIT-1", orgmodel.RuleOf(err), "unchained events do not verify")

		sqlTx, err := db.w.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, chainAudit(ctx, sqlTx, db.d))
		require.NoError(t, sqlTx.Commit())
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			return tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: orgmodel.OrgSID(org), Actor: "operator", Via: "cli", Action: "x", Target: "y", At: time.Now()})
		}))
		rep, err := svc.VerifyAudit(ctx, orgmodel.OperatorActor("cli"), nil)
		require.NoError(t, err)
		require.Equal(t, int64(6), rep.Events)
		// The trigger let the backfill fill the hashes once, and no more.
		_, err = db.w.ExecContext(ctx, `UPDATE audit_events SET hash = 'x'`)
		require.ErrorContains(t, err, "R-AUDIT-1")
	})
}
