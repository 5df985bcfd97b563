package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuditVerify_NamesTheTamperedEvent changes one event in the SQLite
// file behind orgd's back (the append-only triggers dropped, as someone
// with the file could) and `orgd audit verify` exits 3 naming the
// organization and the event; the other organizations' chains still pass.
func TestAuditVerify_NamesTheTamperedEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgd.db")
	c := newCLI(t, "sqlite:"+path)
	a := c.ok("signup", "--email", "owner@tamper-a.test", "--password", testPassword, "--name", "A")
	b := c.ok("signup", "--email", "owner@tamper-b.test", "--password", testPassword, "--name", "B")
	orgA, orgB := a.str("organization_sid"), b.str("organization_sid")
	c.ok("org", "rename", "--org", orgA, "--name", "A2")
	c.ok("org", "rename", "--org", orgA, "--name", "A3")
	ok := c.ok("audit", "verify")
	require.Equal(t, "ok", ok.str("status"))

	evs := c.ok("audit", "list", "--org", orgA, "--action", "org.rename").list("events")
	require.Len(t, evs, 2)
	victim := evs[1] // the older rename

	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET after_json = '{"friendly_name":"Mallory"}' WHERE sid = '` + victim.str("sid") + `'`} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}

	for _, args := range [][]string{{"audit", "verify"}, {"audit", "verify", "--org", orgA}} {
		code, o := c.fail(args...)
		require.Equal(t, 3, code)
		require.Equal(t, "R-AUDIT-1", o.str("rule"))
		require.Contains(t, o.str("error"), orgA)
		require.Contains(t, o.str("error"), victim.str("sid"))
		require.Contains(t, o.str("error"), "was changed")
	}
	require.Equal(t, "ok", c.ok("audit", "verify", "--org", orgB).str("status"))
}
