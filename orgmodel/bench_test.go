package orgmodel_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// benchEnv is an env on SQLite, or on the PostgreSQL database named by
// ORGD_BENCH_POSTGRES (a database the benchmark may fill).
func benchEnv(b *testing.B) *env {
	b.Helper()
	dsn := "sqlite:" + filepath.Join(b.TempDir(), "orgd.db")
	if pg := os.Getenv("ORGD_BENCH_POSTGRES"); pg != "" {
		dsn = pg
	}
	db, err := store.Open(b.Context(), dsn, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	t := &testing.T{}
	e := newEnvOn(t, db)
	e.ctx = b.Context()
	e.t = t
	return e
}

// BenchmarkSignUp measures `orgd signup`'s service call with the production
// argon2id parameters: a new organization, user and account.
func BenchmarkSignUp(b *testing.B) {
	e := benchEnv(b)
	svc := orgmodel.NewService(e.db, orgmodel.Config{Hasher: password.Default, Now: e.clock.Now})
	var n atomic.Int64
	b.ResetTimer()
	for b.Loop() {
		_, err := svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: fmt.Sprintf("u%d@bench%d.test", n.Add(1), b.N), Password: pw})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetAccountParallel is a read under load: many goroutines
// fetching an account as its owner (authorization included).
func BenchmarkGetAccountParallel(b *testing.B) {
	e := benchEnv(b)
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "owner@bench.test", Password: pw})
	require.NoError(b, err)
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			if _, err := e.svc.GetAccount(e.ctx, as(r.UserSID), r.AccountSID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRenameAccountParallel is a write under load: a locked,
// authorized, audited change per call, from many goroutines at once.
func BenchmarkRenameAccountParallel(b *testing.B) {
	e := benchEnv(b)
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "owner@bench.test", Password: pw})
	require.NoError(b, err)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			if _, err := e.svc.RenameAccount(e.ctx, as(r.UserSID), r.AccountSID, fmt.Sprintf("n%d", n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInviteUserParallel is the heaviest common command: it reads the
// domain, checks the person, revokes older invitations, writes the
// invitation, its audit event and its mail.
func BenchmarkInviteUserParallel(b *testing.B) {
	e := benchEnv(b)
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "owner@bench.test", Password: pw})
	require.NoError(b, err)
	d, err := e.svc.AddDomain(e.ctx, e.op, r.OrgSID, "bench.test")
	require.NoError(b, err)
	e.dns.set(d.TXTName, d.TXTValue)
	_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "bench.test")
	require.NoError(b, err)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			_, err := e.svc.InviteUser(e.ctx, as(r.UserSID), orgmodel.InviteInput{OrgSID: r.OrgSID, Email: fmt.Sprintf("p%d@bench.test", n.Add(1))})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
