package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// busyRE is what a database's contention looks like if it leaks to a client.
var busyRE = regexp.MustCompile(`(?i)database is locked|sqlite_busy|\bbusy\b|deadlock|could not serialize`)

// TestLoad_64ClientsWithoutErrors runs `orgd serve` as a process and has
// 64 clients mix reads and writes on every surface (SCIM users and groups,
// the 2010-04-01 API, the Organizations API, the console) for
// ORGD_LOAD_SECONDS (5 by default; 60 for the full run in the README): no
// 5xx, no transport error, no busy or locked error reaches a client, and
// the server's resident memory after the run stays within a generous bound
// of what it was after warming up.
func TestLoad_64ClientsWithoutErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the load test runs orgd serve under 64 clients")
	}
	secs := envInt(t, "ORGD_LOAD_SECONDS", 5)
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		token := f.ok("scim-token", "create", "--org", f.orgA).str("token")
		acct := f.acctA
		secret := f.ok("account", "rotate-token", "--account", acct).str("auth_token")
		client := f.ok("oauth-client", "create", "--org", f.orgA)
		svc := testService(t, dsn, "", nil)
		session, _, err := svc.StartSession(t.Context(), orgmodel.Actor{UserSID: orgmodel.UserSID(f.ownerA), Via: "test"}, orgmodel.UserSID(f.ownerA), "password")
		require.NoError(t, err)

		c := startChild(t, dsn)
		base := c.url
		tok, err := send("POST", base+"/v2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			"grant_type=client_credentials&client_id="+client.str("client_id")+"&client_secret="+client.str("client_secret"))
		require.NoError(t, err)
		require.Equal(t, 200, tok.status, string(tok.body))
		jwt := tok.doc["access_token"].(string)
		grp, err := send("POST", base+"/scim/v2/Groups", scimHeader(token), map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Load"})
		require.NoError(t, err)
		require.Equal(t, 201, grp.status, string(grp.body))
		group := grp.doc["id"].(string)

		var (
			mu       sync.Mutex
			users    []string // SCIM ids
			names    []string
			requests atomic.Int64
			failures = map[string]int{} // what went wrong, by kind
		)
		note := func(kind string) { mu.Lock(); failures[kind]++; mu.Unlock() }
		check := func(what string, r reply, err error, want ...int) bool {
			requests.Add(1)
			if err != nil {
				note("transport error: " + err.Error())
				return false
			}
			if busyRE.Match(r.body) {
				note(fmt.Sprintf("%s: busy/locked in the answer: %.200s", what, r.body))
			}
			if r.status >= 500 {
				note(fmt.Sprintf("%s: %d %.200s", what, r.status, r.body))
				return false
			}
			for _, w := range want {
				if r.status == w {
					return true
				}
			}
			note(fmt.Sprintf("%s: unexpected %d %.200s", what, r.status, r.body))
			return false
		}
		create := func(w, n int) {
			name := fmt.Sprintf("load-%d-%d@acme.test", w, n)
			r, err := send("POST", base+"/scim/v2/Users", scimHeader(token), map[string]any{
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "displayName": "L"})
			if check("POST /Users", r, err, 201) {
				mu.Lock()
				users, names = append(users, r.doc["id"].(string)), append(names, name)
				mu.Unlock()
			}
		}
		for i := range 20 {
			create(-1, i)
		}
		pick := func(rng *rand.Rand) (string, string) {
			mu.Lock()
			defer mu.Unlock()
			i := rng.IntN(len(users))
			return users[i], names[i]
		}

		const clients = 64
		deadline := time.Now().Add(time.Duration(secs) * time.Second)
		warm := time.Now().Add(time.Duration(secs) * time.Second / 5)
		var warmRSS atomic.Int64
		var wg sync.WaitGroup
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
				for n := 0; time.Now().Before(deadline); n++ {
					if w == 0 && warmRSS.Load() == 0 && time.Now().After(warm) {
						warmRSS.Store(int64(c.rssKiB()))
					}
					id, name := pick(rng)
					switch op := rng.IntN(20); {
					case op < 4:
						r, err := send("GET", base+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), scimHeader(token), nil)
						check("GET /Users?filter", r, err, 200)
					case op < 6:
						r, err := send("GET", base+"/scim/v2/Users/"+id, scimHeader(token), nil)
						check("GET /Users/{id}", r, err, 200)
					case op < 9:
						create(w, n)
					case op < 12:
						r, err := send("PATCH", base+"/scim/v2/Users/"+id, scimHeader(token), map[string]any{
							"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
							"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": fmt.Sprintf("L%d", n)}}})
						check("PATCH /Users/{id}", r, err, 200)
					case op < 13:
						r, err := send("PATCH", base+"/scim/v2/Groups/"+group, scimHeader(token), map[string]any{
							"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
							"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}})
						check("PATCH /Groups/{id}", r, err, 204, 200)
					case op < 15:
						r, err := send("GET", base+"/2010-04-01/Accounts/"+acct+".json", basicHeader(acct, secret), nil)
						check("GET /2010-04-01/Accounts/{sid}", r, err, 200)
					case op < 16:
						r, err := send("POST", base+"/2010-04-01/Accounts/"+acct+".json", basicHeader(acct, secret), fmt.Sprintf("FriendlyName=Load+%d", n))
						check("POST /2010-04-01/Accounts/{sid}", r, err, 200)
					case op < 17:
						r, err := send("POST", base+"/2010-04-01/Accounts/"+acct+"/Keys.json", basicHeader(acct, secret), "FriendlyName=load")
						check("POST /2010-04-01/…/Keys", r, err, 201)
					case op < 18:
						r, err := send("GET", base+"/Organizations/"+f.orgA+"/Accounts", map[string]string{"Authorization": "Bearer " + jwt}, nil)
						check("GET /Organizations/{sid}/Accounts", r, err, 200)
					default:
						r, err := send("GET", base+"/console/accounts", map[string]string{"Cookie": orgmodel.SessionCookie + "=" + session}, nil)
						check("GET /console/accounts", r, err, 200)
					}
				}
			}()
		}
		wg.Wait()
		endRSS := c.rssKiB()
		c.stop()
		total := requests.Load()
		mu.Lock()
		defer mu.Unlock()
		nerr := 0
		for k, n := range failures {
			nerr += n
			t.Errorf("%d × %s", n, k)
		}
		start := int(warmRSS.Load())
		t.Logf("load: %d clients for %d s: %d requests (%.0f/s), %d errors; RSS %d MiB after warm-up, %d MiB at the end; %d users",
			clients, secs, total, float64(total)/float64(secs), nerr, start/1024, endRSS/1024, len(users))
		require.Positive(t, start, "no RSS sample after warm-up")
		require.LessOrEqualf(t, endRSS, 2*start+128*1024, "resident memory grew from %d KiB to %d KiB", start, endRSS)
	})
}
