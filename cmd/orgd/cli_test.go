package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestCLI_Help(t *testing.T) {
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	r := c.run("help")
	require.Equal(t, 0, r.code)
	for _, cmd := range commands() {
		require.Contains(t, r.stdout, "\n  "+cmd.name+" ", "help lists %q", cmd.name)
	}
	for _, args := range [][]string{{"domain", "add", "-h"}, {"domain", "add", "--help"}, {"help", "domain", "add"}} {
		r := c.run(args...)
		require.Equal(t, 0, r.code, args)
		require.Contains(t, r.stdout, "usage: orgd domain add --org OR… --domain D", args)
		require.Contains(t, r.stdout, "--org OR…", args)
		require.Contains(t, r.stdout, "(required)", args)
		require.Empty(t, r.stderr, args)
	}
	r = c.run()
	require.Equal(t, 2, r.code, "no verb is a usage error")
	require.Contains(t, r.stderr, "usage: orgd VERB")
	_, err := os.Stat(filepath.Join(filepath.Dir(strings.TrimPrefix(c.env["ORGD_DB"], "sqlite:")), "orgd.db"))
	require.ErrorIs(t, err, os.ErrNotExist, "help touches no database")
}

func TestCLI_DatabaseErrors(t *testing.T) {
	c := newCLI(t, "postgres://orgd:s3cret@127.0.0.1:1/orgd?sslmode=disable&connect_timeout=2")
	code, o := c.fail("org", "show", "--org", orgmodel.NewSID("OR"))
	require.Equal(t, 1, code)
	require.Contains(t, o.str("error"), "cannot open the database")
	require.NotContains(t, o.str("error"), "s3cret", "the DSN's password is never echoed")

	c.env["ORGD_DB"] = "mysql://localhost/orgd"
	_, o = c.fail("migrate")
	require.Contains(t, o.str("error"), "sqlite:PATH or postgres://")
}

// TestCLI_InternalErrorIsGeneric: an error that is no RuleError reaches
// the operator as a reference, never its text (which may hold SQL),
// unless ORGD_DEBUG asks for it.
func TestCLI_InternalErrorIsGeneric(t *testing.T) {
	cause := fmt.Errorf("store: postgres 42P01: %w", errors.New(`relation "orgs" does not exist (SELECT sid FROM orgs)`))
	var w strings.Builder
	err := report(&w, func(string) string { return "" }, cause)
	require.Equal(t, 1, exitCode(err))
	o := oneObject(t, w.String())
	require.Contains(t, o.str("error"), "internal error (reference "+o.str("ref"))
	require.NotContains(t, w.String(), "SELECT")
	require.NotContains(t, w.String(), "orgs")

	w.Reset()
	_ = report(&w, func(k string) string { return map[string]string{"ORGD_DEBUG": "1"}[k] }, cause)
	require.Contains(t, oneObject(t, w.String()).str("detail"), "SELECT sid FROM orgs")

	for err, want := range map[error]int{
		orgmodel.Invalid("x", "bad"):                              2,
		orgmodel.Breaks("R-ROLE-3", orgmodel.KindForbidden, "no"): 3,
		orgmodel.Breaks("R-DOM-4", orgmodel.KindConflict, "no"):   3,
		orgmodel.NotFound("user", "US1"):                          4,
		&usageError{"bad flag"}:                                   2,
		fmt.Errorf("wrapped: %w", orgmodel.ErrConflict):           3,
		errors.New("boom"):                                        1,
	} {
		require.Equal(t, want, exitCode(report(&w, func(string) string { return "" }, err)), "%v", err)
	}
}

// TestCLI_ActorIsTheUser: --as acts with exactly that user's permissions,
// and the audit log names the user.
func TestCLI_ActorIsTheUser(t *testing.T) {
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	f.ok("org", "rename", "--org", f.orgA, "--name", "By the Owner", "--as", f.ownerA)
	e := f.ok("audit", "list", "--org", f.orgA, "--limit", "1").list("events")[0]
	require.Equal(t, "org.rename", e.str("action"))
	require.Equal(t, f.ownerA, e.str("actor"))
	require.Equal(t, "cli", e.str("via"))

	f.ok("org", "rename", "--org", f.orgA, "--name", "By the operator")
	require.Equal(t, "operator", f.ok("audit", "list", "--org", f.orgA, "--limit", "1").list("events")[0].str("actor"))
}

// TestExampleImportFile keeps the README's `user import` example valid.
func TestExampleImportFile(t *testing.T) {
	fh, err := os.Open("../../testdata/users.csv")
	require.NoError(t, err)
	defer fh.Close()
	rows, err := orgmodel.ParseImportCSV(fh)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "administrator", rows[1].Role)
}
