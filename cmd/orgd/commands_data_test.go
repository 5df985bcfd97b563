package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/store"
)

// TestBackupRestore_WhileServing backs up a SQLite database while orgd
// serve runs on it and another process keeps writing, and restores it: the
// copy is one consistent snapshot, a restore is refused over a database in
// use or holding data (unless --force), and a damaged or newer backup is
// refused without touching the target.
func TestBackupRestore_WhileServing(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	f := newFixture(t, "sqlite:"+live)
	startServe(t, f.orgdCLI)

	// A writer inviting users (each invitation with its audit event and its
	// mail, in one transaction) all through the backup.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var created atomic.Int32
	var writeErr atomic.Value
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			var out, errb bytes.Buffer
			err := run(ctx, []string{"user", "invite", "--org", f.orgA, "--email", "w" + strconv.Itoa(i) + "@acme.test"}, f.getenv, &out, &errb)
			if err != nil && ctx.Err() == nil {
				writeErr.Store(errb.String())
				return
			}
			created.Add(1)
		}
	})
	eventually(t, "the writer is under way", func() bool {
		if e := writeErr.Load(); e != nil {
			t.Fatalf("the writer failed: %v", e)
		}
		return created.Load() >= 3
	})
	backup := filepath.Join(dir, "backup.db")
	b := f.ok("backup", "--out", backup)
	n0 := created.Load()
	eventually(t, "the writer goes on after the backup", func() bool { return created.Load() >= n0+2 || writeErr.Load() != nil })
	stop()
	wg.Wait()
	require.Nil(t, writeErr.Load(), "the writer failed")
	t.Logf("the writer made %d invitations, %d before the backup returned", created.Load(), n0)
	require.Equal(t, "backed-up", b.str("status"))
	require.Equal(t, "ok", b.str("integrity"))
	require.Equal(t, backup, b.str("out"))
	require.EqualValues(t, store.LatestSchemaVersion("sqlite"), b.num("schema_version"))
	require.Equal(t, 4, b.sub("rows").num("orgs"), "the fixture's four organizations")

	// The copy is one snapshot: every invitation in it has its audit event
	// and its mail, and nothing more.
	bc := newCLI(t, "sqlite:"+backup)
	invs := bc.ok("user", "invitations", "--org", f.orgA).list("invitations")
	require.NotEmpty(t, invs, "the backup caught some of the writer's invitations")
	require.Less(t, len(invs), int(created.Load()), "and not those made after it")
	events := bc.ok("audit", "list", "--org", f.orgA, "--action", "user.invite", "--limit", "1000").list("events")
	require.Len(t, events, len(invs), "one event per invitation")
	mails := 0
	for _, m := range bc.ok("mail", "list", "--limit", "1000").list("messages") {
		if strings.HasPrefix(m.str("to"), "w") && strings.HasSuffix(m.str("to"), "@acme.test") {
			mails++
		}
	}
	require.Equal(t, len(invs), mails, "one mail per invitation")

	code, o := f.fail("backup", "--out", filepath.Join(dir, "no-such-dir", "b.db"))
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "no-such-dir")
	again := f.run("backup", "--out", backup)
	require.Equal(t, 3, again.code, "a backup never overwrites: %s", again.stderr)
	require.Contains(t, again.stderr, "already exists")

	// Never over a database in use, even with --force.
	for _, args := range [][]string{{"restore", "--in", backup}, {"restore", "--in", backup, "--force"}} {
		code, o = f.fail(args...)
		require.Equal(t, 3, code, args)
		require.Contains(t, o.str("error"), "in use", args)
	}

	// Into a new file: the same state as the backup.
	restored := filepath.Join(dir, "restored.db")
	rc := newCLI(t, "sqlite:"+restored)
	r := rc.ok("restore", "--in", backup)
	require.Equal(t, "restored", r.str("status"))
	require.Equal(t, "ok", r.str("integrity"))
	require.Equal(t, b.sub("rows"), r.sub("rows"))
	require.Equal(t, bc.ok("audit", "list", "--limit", "1000"), rc.ok("audit", "list", "--limit", "1000"))
	require.Equal(t, bc.ok("user", "list", "--org", f.orgA), rc.ok("user", "list", "--org", f.orgA))
	rc.ok("user", "invite", "--org", f.orgA, "--email", "after-restore@acme.test") // and it takes writes

	// Over data only with --force, once the server is gone.
	require.NoError(t, os.Remove(filepath.Join(dir, "restored.db")))
	other := newCLI(t, "sqlite:"+restored)
	other.ok("signup", "--email", "someone@other-corp.test", "--password", testPassword)
	code, o = other.fail("restore", "--in", backup)
	require.Equal(t, 3, code)
	require.Contains(t, o.str("error"), "holds data")
	require.Contains(t, o.str("error"), "--force")
	require.Len(t, other.ok("audit", "list").list("events"), 3, "the refused restore changed nothing")
	other.ok("restore", "--in", backup, "--force")
	require.Equal(t, bc.ok("audit", "list", "--limit", "1000"), other.ok("audit", "list", "--limit", "1000"))

	// A damaged backup, one of a newer orgd, or no database at all is
	// refused and the target stays as it was.
	raw, err := os.ReadFile(backup)
	require.NoError(t, err)
	damaged := filepath.Join(dir, "damaged.db")
	require.NoError(t, os.WriteFile(damaged, raw[:len(raw)/2], 0o600))
	newer := filepath.Join(dir, "newer.db")
	require.NoError(t, os.WriteFile(newer, raw, 0o600))
	ndb, err := sql.Open("sqlite", newer)
	require.NoError(t, err)
	_, err = ndb.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`)
	require.NoError(t, err)
	require.NoError(t, ndb.Close())
	notdb := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notdb, []byte("not a database\n"), 0o600))
	target := filepath.Join(dir, "target.db")
	tc := newCLI(t, "sqlite:"+target)
	for in, want := range map[string]string{damaged: "damaged.db", newer: "newer orgd", notdb: "not a SQLite database", filepath.Join(dir, "missing.db"): "cannot read"} {
		code, o := tc.fail("restore", "--in", in)
		require.Equal(t, 2, code, in)
		require.Contains(t, o.str("error"), want, in)
		_, err := os.Stat(target)
		require.ErrorIs(t, err, os.ErrNotExist, "a refused restore creates nothing")
	}

	// A file that is no database is replaced only with --force.
	require.NoError(t, os.WriteFile(target, []byte("notes\n"), 0o600))
	code, o = tc.fail("restore", "--in", backup)
	require.Equal(t, 3, code)
	require.Contains(t, o.str("error"), "--force")
	require.Equal(t, "restored", tc.ok("restore", "--in", backup, "--force").str("status"))
	require.Equal(t, bc.ok("audit", "list", "--limit", "1000"), tc.ok("audit", "list", "--limit", "1000"))

	// Nothing to back up: no database is created.
	nothing := filepath.Join(dir, "nothing.db")
	code, o = newCLI(t, "sqlite:"+nothing).fail("backup", "--out", filepath.Join(dir, "nothing-backup.db"))
	require.Equal(t, 4, code)
	require.Contains(t, o.str("error"), "no database at")
	_, err = os.Stat(nothing)
	require.ErrorIs(t, err, os.ErrNotExist)

	// PostgreSQL is backed up with its own tools.
	pg := newCLI(t, "postgres://orgd@127.0.0.1:1/orgd")
	code, o = pg.fail("backup", "--out", filepath.Join(dir, "pg.db"))
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "pg_dump")
}

// TestMigrateData_SQLiteToPostgres copies a SQLite database holding every
// kind of state (organizations, users, accounts and grants, domains,
// invitations, SCIM users and groups, credentials, sessions, audit, outbox)
// into PostgreSQL: every verb reads the same there, a session opened on
// SQLite is live on PostgreSQL, new rows get fresh ids, and a second copy
// into the now filled database is refused.
func TestMigrateData_SQLiteToPostgres(t *testing.T) {
	pgDSN := postgresDB(t) // skips without ORGD_TEST_POSTGRES
	src := "sqlite:" + filepath.Join(t.TempDir(), "orgd.db")
	f := newFixture(t, src)
	s := startServe(t, f.orgdCLI)

	tok := f.ok("scim-token", "create", "--org", f.orgA).str("token")
	code, _, u := scimCall(t, "POST", s.url+"/scim/v2/Users", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "scim.user@acme.test",
		"name": map[string]any{"givenName": "Scim", "familyName": "User"}, "active": true})
	require.Equal(t, 201, code, "%v", u)
	code, _, g := scimCall(t, "POST", s.url+"/scim/v2/Groups", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Engineering",
		"members": []any{map[string]any{"value": u["id"]}}})
	require.Equal(t, 201, code, "%v", g)
	f.ok("group", "map", "--org", f.orgA, "--group", g["id"].(string), "--account", f.acctA+":developer")
	f.ok("oauth-client", "create", "--org", f.orgA)
	f.ok("account", "keys", "create", "--account", f.acctA)
	f.ok("subaccount", "create", "--parent", f.acctA, "--name", "Child")
	f.ok("user", "invite", "--org", f.orgA, "--email", "pending@acme.test")
	code, _, session := replicaPostForm(t, s.url+"/login/password", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}, "")
	require.Equal(t, http.StatusSeeOther, code, s.stderr.String())
	require.NotEmpty(t, session)
	require.NoError(t, s.stop())

	rep, err := store.InspectSQLite(t.Context(), filepath.Join(filepath.Dir(src[len("sqlite:"):]), "orgd.db"))
	require.NoError(t, err)
	for _, table := range []string{"orgs", "users", "accounts", "grants", "domains", "invitations", "scim_tokens", "oauth_clients",
		"api_keys", "sessions", "audit_events", "outbox", "scim_groups", "group_members", "group_accounts", "user_terms"} {
		require.Positivef(t, rep.Rows[table], "the scenario leaves rows in %s", table)
	}

	m := f.ok("migrate-data", "--from", src, "--to", pgDSN)
	require.Equal(t, "copied", m.str("status"))
	require.NotContains(t, fmt.Sprint(m), "127.0.0.1", "the target DSN is not echoed")
	var total int64
	for table, n := range rep.Rows {
		if table == "user_counts" {
			// Derived: rebuilt from the users copied, in PostgreSQL's eight
			// shards (SQLite keeps one; migration 00071).
			n = int64(m.sub("rows").num(table))
			require.Positive(t, n)
		}
		require.EqualValuesf(t, n, m.sub("rows").num(table), "rows of %s", table)
		total += n
	}
	require.EqualValues(t, total, m.num("total_rows"))
	order := m["tables"].([]any)
	pos := map[string]int{}
	for i, t := range order {
		pos[t.(string)] = i
	}
	require.Less(t, pos["orgs"], pos["users"], "foreign-key order")
	require.Less(t, pos["users"], pos["accounts"])
	require.Less(t, pos["scim_groups"], pos["group_members"])

	require.Equal(t, filepath.Join(filepath.Dir(src[len("sqlite:"):]), "orgd.db.key"), m.str("secret_key_file"),
		"sealed secrets are copied sealed: PostgreSQL needs the SQLite database's key")
	pg := newCLI(t, pgDSN)
	pg.env["ORGD_DNS_SERVER"] = f.dns.addr
	pg.env["ORGD_SECRET_KEY_FILE"] = m.str("secret_key_file")
	for _, args := range [][]string{
		{"org", "show", "--org", f.orgA}, {"user", "list", "--org", f.orgA}, {"user", "list", "--org", f.orgC},
		{"account", "list", "--org", f.orgC}, {"account", "grants", "--org", f.orgA}, {"domain", "list", "--org", f.orgA},
		{"group", "list", "--org", f.orgA}, {"scim-token", "list", "--org", f.orgA}, {"subaccount", "list", "--parent", f.acctA},
		{"audit", "list", "--limit", "1000"}, {"mail", "list", "--limit", "1000"},
	} {
		require.Equal(t, f.ok(args...), pg.ok(args...), "orgd %v reads the same on PostgreSQL", args)
	}

	// The SQLite server's session is live on a PostgreSQL server.
	ps := startServe(t, pg)
	require.Equal(t, http.StatusOK, consoleStatus(t, ps.url, session))
	code, _, list := scimCall(t, "GET", ps.url+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "scim.user@acme.test"`), tok, nil)
	require.Equal(t, 200, code)
	require.EqualValues(t, 1, list["totalResults"], "the SCIM token works on PostgreSQL")
	// The per-organization user counts (kept by triggers) are rebuilt, not
	// doubled by the copy: an unfiltered list counts what a filter counts.
	code, _, all := scimCall(t, "GET", ps.url+"/scim/v2/Users?count=1", tok, nil)
	require.Equal(t, 200, code)
	code, _, counted := scimCall(t, "GET", ps.url+"/scim/v2/Users?count=1&filter="+url.QueryEscape(`userName pr`), tok, nil)
	require.Equal(t, 200, code)
	require.EqualValues(t, counted["totalResults"], all["totalResults"], "totalResults after migrate-data")

	// New rows get ids past the copied ones.
	maxSeq := pg.ok("audit", "list", "--limit", "1").list("events")[0].num("seq")
	maxMail := pg.ok("mail", "list", "--limit", "1").list("messages")[0].num("id")
	pg.ok("user", "invite", "--org", f.orgA, "--email", "after-copy@acme.test")
	require.Greater(t, pg.ok("audit", "list", "--limit", "1").list("events")[0].num("seq"), maxSeq)
	require.Greater(t, pg.ok("mail", "list", "--limit", "1").list("messages")[0].num("id"), maxMail)

	// Once is enough: the target holds data now.
	before := pg.ok("audit", "list", "--limit", "1000")
	code, o := f.fail("migrate-data", "--from", src, "--to", pgDSN)
	require.Equal(t, 3, code)
	require.Contains(t, o.str("error"), "already holds data")
	require.Equal(t, before, pg.ok("audit", "list", "--limit", "1000"))

	code, o = f.fail("migrate-data", "--from", src+".missing", "--to", pgDSN)
	require.Equal(t, 4, code)
	require.Contains(t, o.str("error"), "no database at")
	code, o = f.fail("migrate-data", "--from", src, "--to", src)
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "--to")
	code, o = f.fail("migrate-data", "--from", pgDSN, "--to", pgDSN)
	require.Equal(t, 2, code)
	require.Contains(t, o.str("error"), "--from")
}

// sub is the object under key k.
func (o obj) sub(k string) obj {
	m, _ := o[k].(map[string]any)
	return obj(m)
}
