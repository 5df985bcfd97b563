package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

// Benchmarks of the two paths every request takes: a single-row read and
// a write transaction with its audit event. The PostgreSQL variants run
// when ORGD_TEST_POSTGRES is set.

func benchDialects(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	for _, d := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", store.NewSQLiteDSN}, {"postgres", store.NewPostgresDSN}} {
		b.Run(d.name, func(b *testing.B) {
			db, err := store.Open(b.Context(), d.dsn(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			fn(b, db)
		})
	}
}

// benchOrg writes an organization with n users and returns it.
func benchOrg(b *testing.B, db *store.DB, n int) *orgmodel.Org {
	ctx := b.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := &orgmodel.Org{SID: orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), FriendlyName: "bench",
		AccountLimit: 10, CreatedAt: now, UpdatedAt: now}
	err := db.InTx(ctx, func(tx orgmodel.Tx) error {
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		for i := range n {
			u := &orgmodel.User{SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: fmt.Sprintf("user%d@bench.example", i),
				OrgSID: o.SID, Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
			if i == 0 {
				u.Role, o.OwnerSID = orgmodel.RoleOwner, u.SID
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.UpdateOrg(ctx, o)
	})
	if err != nil {
		b.Fatal(err)
	}
	return o
}

func BenchmarkGetUserByEmail(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		const users = 1000
		benchOrg(b, db, users)
		ctx := b.Context()
		i := 0
		for b.Loop() {
			email := fmt.Sprintf("USER%d@bench.example", i%users)
			i++
			err := db.Read(ctx, func(tx orgmodel.Tx) error {
				_, err := tx.GetUserByEmail(ctx, email)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreateUserWithAudit(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		o := benchOrg(b, db, 1)
		ctx := b.Context()
		i := 0
		for b.Loop() {
			i++
			now := time.Now().UTC()
			err := db.InTx(ctx, func(tx orgmodel.Tx) error {
				u := &orgmodel.User{SID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), Email: fmt.Sprintf("new%d@bench.example", i),
					OrgSID: o.SID, Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, Version: 1, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: o.SID, Actor: "operator", Via: "bench",
					Action: "user.create", Target: string(u.SID), After: `{"email":"` + u.Email + `"}`, At: now})
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
