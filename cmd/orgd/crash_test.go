package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashUser is one SCIM user a crash worker created: whether its creation
// was acknowledged, and the displayName values it may hold — the last
// acknowledged one, and any sent after it whose answer never came.
type crashUser struct {
	id, userName string
	acked        string
	pending      []string
}

// crashGroup is a worker's group and the members added to it.
type crashGroup struct {
	id      string
	acked   map[string]bool // acknowledged adds
	pending map[string]bool // adds whose answer never came
}

// crashLedger is what the clients were told, kept on their side.
type crashLedger struct {
	mu      sync.Mutex
	users   []*crashUser
	groups  []*crashGroup
	keys    []string // API keys whose creation was acknowledged
	name    string   // the account's last acknowledged FriendlyName
	names   []string // and those sent after it, unanswered
	acked   atomic.Int64
	unknown atomic.Int64 // requests cut off by a kill
}

// TestCrash_SIGKILLKeepsEveryAcknowledgedWrite runs `orgd serve` as a
// process, drives concurrent writes (SCIM creates and PATCHes, group
// membership, account renames and API keys), kills the process with
// SIGKILL at random moments, restarts it, and checks that every write
// that was acknowledged is there, none is half applied, and the database
// passes its integrity check and the model's invariants. Five kills by
// default (a short form for CI); ORGD_CRASH_ROUNDS sets more.
func TestCrash_SIGKILLKeepsEveryAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test starts and kills orgd serve several times")
	}
	rounds := envInt(t, "ORGD_CRASH_ROUNDS", 5)
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		token := f.ok("scim-token", "create", "--org", f.orgA).str("token")
		acct := f.acctA
		secret := f.ok("account", "rotate-token", "--account", acct).str("auth_token")
		require.NotEmpty(t, secret)

		srv := &serverURL{}
		c := startChild(t, dsn)
		srv.set(c.url)
		led := &crashLedger{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		const workers = 6
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				crashWorker(w, srv, token, acct, secret, led, stop)
			}()
		}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for i := range rounds {
			time.Sleep(time.Duration(150+rng.IntN(1200)) * time.Millisecond)
			srv.set("") // new requests wait for the next process
			c.kill()
			t.Logf("round %d: killed after %d acknowledged writes, %d cut off", i+1, led.acked.Load(), led.unknown.Load())
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			c = startChild(t, dsn)
			srv.set(c.url)
		}
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		require.Greater(t, led.acked.Load(), int64(rounds), "the workers wrote next to nothing; the test proves nothing")

		verifyLedger(t, c.url, token, acct, secret, led)
		c.stop()
		verifyDatabase(t, dsn, f.orgA)
		t.Logf("crash test: %d kills survived, %d acknowledged writes all present, %d requests unanswered (cut off by a kill or sent while it was down), %d users, %d groups, %d keys checked",
			rounds, led.acked.Load(), led.unknown.Load(), len(led.users), len(led.groups), len(led.keys))
	})
}

// crashWorker writes until stop, recording acknowledged and cut-off writes.
func crashWorker(w int, srv *serverURL, token, acct, secret string, led *crashLedger, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	var mine []*crashUser
	var group *crashGroup
	n := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		base := srv.get()
		if base == "" {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		n++
		scim := base + "/scim/v2"
		switch op := rng.IntN(10); {
		case op < 3 || len(mine) < 2:
			name := fmt.Sprintf("crash-%d-%d@acme.test", w, n)
			r, err := send("POST", scim+"/Users", scimHeader(token), map[string]any{
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "displayName": "v0"})
			if err != nil {
				led.unknown.Add(1)
				continue
			}
			if r.status != 201 {
				panic(fmt.Sprintf("create %s: %d %s", name, r.status, r.body))
			}
			u := &crashUser{id: r.doc["id"].(string), userName: name, acked: "v0"}
			mine = append(mine, u)
			led.mu.Lock()
			led.users = append(led.users, u)
			led.mu.Unlock()
			led.acked.Add(1)
		case op < 7:
			u := mine[rng.IntN(len(mine))]
			val := fmt.Sprintf("v%d", n)
			led.mu.Lock()
			u.pending = append(u.pending, val)
			led.mu.Unlock()
			r, err := send("PATCH", scim+"/Users/"+u.id, scimHeader(token), map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": val}}})
			if err != nil {
				led.unknown.Add(1)
				continue
			}
			if r.status != 200 {
				panic(fmt.Sprintf("patch %s: %d %s", u.id, r.status, r.body))
			}
			led.mu.Lock()
			u.acked, u.pending = val, nil
			led.mu.Unlock()
			led.acked.Add(1)
		case op < 9:
			if group == nil {
				name := fmt.Sprintf("Crash group %d-%d", w, n)
				r, err := send("POST", scim+"/Groups", scimHeader(token), map[string]any{
					"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name})
				if err != nil {
					led.unknown.Add(1)
					continue
				}
				if r.status != 201 {
					panic(fmt.Sprintf("create group: %d %s", r.status, r.body))
				}
				group = &crashGroup{id: r.doc["id"].(string), acked: map[string]bool{}, pending: map[string]bool{}}
				led.mu.Lock()
				led.groups = append(led.groups, group)
				led.mu.Unlock()
				led.acked.Add(1)
				continue
			}
			u := mine[rng.IntN(len(mine))]
			led.mu.Lock()
			group.pending[u.id] = true
			led.mu.Unlock()
			r, err := send("PATCH", scim+"/Groups/"+group.id, scimHeader(token), map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u.id}}}}})
			if err != nil {
				led.unknown.Add(1)
				continue
			}
			if r.status != 204 && r.status != 200 {
				panic(fmt.Sprintf("add member: %d %s", r.status, r.body))
			}
			led.mu.Lock()
			group.acked[u.id] = true
			led.mu.Unlock()
			led.acked.Add(1)
		default:
			if w != 0 { // one writer of the account, so that its last name is known
				r, err := send("POST", base+"/2010-04-01/Accounts/"+acct+"/Keys.json", basicHeader(acct, secret), "FriendlyName=crash")
				if err != nil {
					led.unknown.Add(1)
					continue
				}
				if r.status != 201 {
					panic(fmt.Sprintf("create key: %d %s", r.status, r.body))
				}
				led.mu.Lock()
				led.keys = append(led.keys, r.doc["sid"].(string))
				led.mu.Unlock()
				led.acked.Add(1)
				continue
			}
			name := fmt.Sprintf("Crash %d", n)
			led.mu.Lock()
			led.names = append(led.names, name)
			led.mu.Unlock()
			r, err := send("POST", base+"/2010-04-01/Accounts/"+acct+".json", basicHeader(acct, secret), "FriendlyName="+url.QueryEscape(name))
			if err != nil {
				led.unknown.Add(1)
				continue
			}
			if r.status != 200 {
				panic(fmt.Sprintf("rename account: %d %s", r.status, r.body))
			}
			led.mu.Lock()
			led.name, led.names = name, nil
			led.mu.Unlock()
			led.acked.Add(1)
		}
	}
}

// verifyLedger reads back, through the restarted server, every write the
// clients were told succeeded.
func verifyLedger(t *testing.T, base, token, acct, secret string, led *crashLedger) {
	t.Helper()
	scim := base + "/scim/v2"
	for _, u := range led.users {
		r, err := send("GET", scim+"/Users/"+u.id, scimHeader(token), nil)
		require.NoError(t, err)
		require.Equalf(t, 200, r.status, "acknowledged user %s (%s) is gone: %s", u.id, u.userName, r.body)
		require.Equal(t, u.userName, r.doc["userName"])
		got, _ := r.doc["displayName"].(string)
		allowed := append([]string{u.acked}, u.pending...)
		require.Containsf(t, allowed, got, "user %s: displayName %q, acknowledged %q, unanswered %v", u.id, got, u.acked, u.pending)
		// The search terms were written with the row, not half of it.
		f, err := send("GET", scim+"/Users?filter="+url.QueryEscape(`displayName eq "`+got+`" and userName eq "`+u.userName+`"`), scimHeader(token), nil)
		require.NoError(t, err)
		require.Equal(t, 200, f.status, string(f.body))
		require.EqualValuesf(t, 1, f.doc["totalResults"], "user %s is not found by its displayName %q: its terms disagree with its row", u.id, got)
	}
	for _, g := range led.groups {
		r, err := send("GET", scim+"/Groups/"+g.id, scimHeader(token), nil)
		require.NoError(t, err)
		require.Equalf(t, 200, r.status, "acknowledged group %s is gone: %s", g.id, r.body)
		members := map[string]bool{}
		list, _ := r.doc["members"].([]any)
		for _, m := range list {
			members[m.(map[string]any)["value"].(string)] = true
		}
		for id := range g.acked {
			require.Truef(t, members[id], "group %s lost acknowledged member %s", g.id, id)
		}
		for id := range members {
			require.Truef(t, g.acked[id] || g.pending[id], "group %s has member %s that was never added", g.id, id)
		}
	}
	for _, k := range led.keys {
		r, err := send("GET", base+"/2010-04-01/Accounts/"+acct+"/Keys/"+k+".json", basicHeader(acct, secret), nil)
		require.NoError(t, err)
		require.Equalf(t, 200, r.status, "acknowledged API key %s is gone: %s", k, r.body)
	}
	r, err := send("GET", base+"/2010-04-01/Accounts/"+acct+".json", basicHeader(acct, secret), nil)
	require.NoError(t, err)
	require.Equal(t, 200, r.status)
	if led.name != "" {
		require.Contains(t, append([]string{led.name}, led.names...), r.doc["friendly_name"])
	}
}

// verifyDatabase opens the database the killed servers wrote and checks
// its integrity and the model's invariants, in SQL.
func verifyDatabase(t *testing.T, dsn string, org string) {
	t.Helper()
	driver, source := "pgx", dsn
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, source = "sqlite", p
	}
	db, err := sql.Open(driver, source)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	one := func(q string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRowContext(ctx, q, args...).Scan(&n), q)
		return n
	}
	if driver == "sqlite" {
		var res string
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res))
		require.Equal(t, "ok", res, "PRAGMA integrity_check")
		rows, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
		require.NoError(t, err)
		require.False(t, rows.Next(), "PRAGMA foreign_key_check reports rows")
		require.NoError(t, rows.Close())
	}
	if driver == "pgx" {
		// PostgreSQL's own checks of every B-tree index, when amcheck is
		// installed (it ships with the server; contrib may be missing).
		if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS amcheck"); err != nil {
			t.Logf("amcheck is not available (%v); the invariants below still run", err)
		} else {
			n := one(`SELECT COUNT(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
				JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace ns ON ns.oid = c.relnamespace
				WHERE am.amname = 'btree' AND ns.nspname = 'public') x`)
			require.Positive(t, n, "amcheck checked no index")
		}
	}
	// Exactly one Owner per organization, and it is the one the
	// organization names (R-ROLE-1, R-ROLE-4).
	require.Zero(t, one(`SELECT COUNT(*) FROM orgs o WHERE (SELECT COUNT(*) FROM users u WHERE u.org_sid = o.sid AND u.role = 'owner') <> 1`),
		"an organization without exactly one Owner")
	require.Zero(t, one(`SELECT COUNT(*) FROM orgs o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.sid = o.owner_sid AND u.org_sid = o.sid AND u.role = 'owner')`),
		"an organization naming an Owner that is not its Owner")
	// Group members are users of the group's organization.
	require.Zero(t, one(`SELECT COUNT(*) FROM group_members m JOIN scim_groups g ON g.sid = m.group_sid WHERE g.org_sid <> m.org_sid`))
	require.Zero(t, one(`SELECT COUNT(*) FROM group_members m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.sid = m.user_sid AND u.org_sid = m.org_sid)`))
	// Every SCIM-created user came with its search terms and its audit
	// event: a create is applied whole or not at all.
	require.Zero(t, one(`SELECT COUNT(*) FROM users u WHERE u.email LIKE 'crash-%' AND NOT EXISTS (SELECT 1 FROM user_terms x WHERE x.user_sid = u.sid)`),
		"a user without its search terms")
	require.Zero(t, one(`SELECT COUNT(*) FROM users u WHERE u.email LIKE 'crash-%' AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.target = u.sid AND e.action = 'user.provision')`),
		"a user without its audit event")
	require.Zero(t, one(`SELECT COUNT(*) FROM audit_events e WHERE e.action = 'user.provision' AND e.org_sid = $1 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.sid = e.target)`, org),
		"an audit event of a creation that is not there")
	require.Zero(t, one(`SELECT COUNT(*) FROM api_keys k WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.sid = k.account_sid)`))
}
