package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestSQLiteTwilioAPIQueriesUseIndexes checks the plans of what the
// Twilio-compatible API asks of the store, as TestSQLiteHotQueriesUseIndexes
// does for the rest: role assignments page an organization's Owner and
// Administrators and its grants by user or by account, in SID order.
func TestSQLiteTwilioAPIQueriesUseIndexes(t *testing.T) {
	ctx := t.Context()
	db := open(t, NewSQLiteDSN(t))
	recorded := recordQueries(db)
	const (
		org  = orgmodel.OrgSID("OR00000000000000000000000000000001")
		user = orgmodel.UserSID("US00000000000000000000000000000001")
		acct = orgmodel.AccountSID("AC00000000000000000000000000000001")
	)
	hot := []struct {
		name    string
		ordered bool
		run     func(tx orgmodel.Tx) error
	}{
		{"Owner and Administrators of an organization", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListUsers(ctx, orgmodel.UserFilter{OrgSID: org, Role: orgmodel.RoleAdministrator})
			return err
		}},
		{"grants of a user in an organization, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListGrants(ctx, orgmodel.GrantFilter{OrgSID: org, UserSID: user, AfterSID: "IY0", Limit: 50})
			return err
		}},
		{"grants on an account, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListGrants(ctx, orgmodel.GrantFilter{OrgSID: org, AccountSID: acct, AfterSID: "IY0", Limit: 50})
			return err
		}},
		{"grant by SID", false, func(tx orgmodel.Tx) error { _, err := tx.GetGrantBySID(ctx, "IY0"); return err }},
		{"managed accounts, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListAccounts(ctx, orgmodel.AccountFilter{OrgSID: org, TopLevel: true, AfterSID: acct, Limit: 50})
			return err
		}},
		{"subaccounts by name and status, by page", true, func(tx orgmodel.Tx) error {
			_, err := tx.ListAccounts(ctx, orgmodel.AccountFilter{ParentSID: acct, FriendlyName: "x", Status: orgmodel.AccountActive, AfterSID: acct, Limit: 51})
			return err
		}},
		{"API key", false, func(tx orgmodel.Tx) error {
			if _, err := tx.GetAPIKey(ctx, "SK0"); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			err := tx.UpdateAPIKey(ctx, &orgmodel.APIKey{SID: "SK0"})
			return err
		}},
		{"signing keys", false, func(tx orgmodel.Tx) error {
			if _, err := tx.ListSigningKeys(ctx); err != nil {
				return err
			}
			return tx.DeleteSigningKey(ctx, "k0")
		}},
	}
	for _, h := range hot {
		err := db.InTx(ctx, func(tx orgmodel.Tx) error {
			if err := h.run(tx); err != nil && !errors.Is(err, orgmodel.ErrNotFound) {
				return err
			}
			return errRollback
		})
		require.ErrorIs(t, err, errRollback, h.name)
		queries := recorded()
		require.NotEmpty(t, queries, h.name)
		for _, q := range queries {
			plan := queryPlan(t, db, q)
			if step := fullScan(plan); step != "" && !strings.Contains(q, "signing_keys") {
				t.Errorf("%s: %q reads a whole table (%s)\n%s", h.name, q, step, strings.Join(plan, "\n"))
			}
			if h.ordered && strings.Contains(q, "ORDER BY") && slices.ContainsFunc(plan, func(s string) bool { return strings.Contains(s, "TEMP B-TREE") }) {
				t.Errorf("%s: %q sorts instead of reading an index in order\n%s", h.name, q, strings.Join(plan, "\n"))
			}
		}
	}
}

// TestTwilioAPITxMethods round-trips the issue-5 Tx methods on SQLite and,
// when ORGD_TEST_POSTGRES is set, on PostgreSQL.
func TestTwilioAPITxMethods(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": NewSQLiteDSN, "postgres": NewPostgresDSN} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t, dsn(t))
			seed := []byte("0123456789abcdef0123456789abcdef")
			at := time.UnixMilli(1_800_000_000_123).UTC()
			k1 := &orgmodel.SigningKey{KID: "k1-aa", Generation: 1, Seed: seed, CreatedAt: at}
			k2 := &orgmodel.SigningKey{KID: "k2-bb", Generation: 2, Seed: seed, CreatedAt: at.Add(time.Hour)}
			require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
				if err := tx.CreateSigningKey(ctx, k1); err != nil {
					return err
				}
				return tx.CreateSigningKey(ctx, k2)
			}))
			// One generation, one key: the replica that loses learns it.
			dup := *k2
			dup.KID = "k2-cc"
			err := db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateSigningKey(ctx, &dup) })
			assert.ErrorIs(t, err, orgmodel.ErrConflict)
			var keys []*orgmodel.SigningKey
			require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
				var err error
				keys, err = tx.ListSigningKeys(ctx)
				return err
			}))
			require.Len(t, keys, 2)
			assert.Equal(t, k2, keys[0], "newest generation first, round-tripped")
			assert.Equal(t, k1, keys[1])
			require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.DeleteSigningKey(ctx, k1.KID) }))
			err = db.InTx(ctx, func(tx orgmodel.Tx) error { return tx.DeleteSigningKey(ctx, k1.KID) })
			assert.ErrorIs(t, err, orgmodel.ErrNotFound)
			err = db.InTx(ctx, func(tx orgmodel.Tx) error {
				return tx.UpdateAPIKey(ctx, &orgmodel.APIKey{SID: "SK00000000000000000000000000000000", FriendlyName: "x", UpdatedAt: at})
			})
			assert.ErrorIs(t, err, orgmodel.ErrNotFound)
		})
	}
}
