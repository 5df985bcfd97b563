package main

import (
	"bytes"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
)

var linkTokenRE = regexp.MustCompile(`[?&](?:token|invitation)=([A-Za-z0-9_\-]+)`)

// TestSecrets_NoneInClearAtRest runs a scenario that makes every kind of
// secret orgd handles — a password, auth tokens, an API key secret, a SCIM
// token, an OAuth client secret and the access token it buys, a session, a
// TOTP secret, the seed of the key that signs API tokens, invitation,
// reset and setup links in the outbox — then reads what the database
// holds: the SQLite file with its WAL byte for byte, or every text column
// of every PostgreSQL table. None of the secrets may be there, in clear,
// hex or base64 (hashes and sealed values only).
func TestSecrets_NoneInClearAtRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "secret.key")
		f := &fixture{orgdCLI: newCLI(t, dsn), dns: startDNS(t)}
		c := f.orgdCLI
		c.env["ORGD_DNS_SERVER"] = f.dns.addr
		c.env["ORGD_SECRET_KEY_FILE"] = keyFile
		var secrets []string
		keep := func(s string) string {
			t.Helper()
			require.NotEmpty(t, s)
			secrets = append(secrets, s)
			return s
		}

		keep(testPassword)
		su := c.ok("signup", "--email", "owner@secret.test", "--password", testPassword, "--name", "Secret Corp")
		org, acct, owner := su.str("organization_sid"), su.str("account_sid"), su.str("user_sid")
		keep(su.str("auth_token"))
		f.verify(org, "secret.test")
		keep(c.ok("account", "rotate-token", "--account", acct).str("auth_token"))
		keep(c.ok("account", "create", "--org", org, "--name", "Prod").str("auth_token"))
		keep(c.ok("account", "keys", "create", "--account", acct).str("secret"))
		keep(c.ok("scim-token", "create", "--org", org).str("token"))
		oc := c.ok("oauth-client", "create", "--org", org)
		keep(oc.str("client_secret"))
		keep(c.ok("user", "invite", "--org", org, "--email", "ann@secret.test").str("token"))
		bob := c.ok("user", "invite", "--org", org, "--email", "bob@secret.test", "--role", "administrator").str("token")
		keep(bob)
		bobUser := c.ok("user", "accept", "--token", bob, "--password", "An0ther-Passw0rd!").str("user_sid")
		keep("An0ther-Passw0rd!")
		c.ok("user", "reset-password", "--org", org, "--user", bobUser)

		s := startServe(t, c)
		// An access token of the Organizations API: the signing key's seed
		// is made now.
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {oc.str("client_id")}, "client_secret": {oc.str("client_secret")}}
		resp, err := http.PostForm(s.url+"/v2/token", form)
		require.NoError(t, err)
		var tok map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%v", tok)
		keep(tok["access_token"].(string))
		// A password login: its session token.
		jar := loginSession(t, s.url, "owner@secret.test", testPassword)
		keep(jar)

		db, err := store.Open(t.Context(), dsn, nil)
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, useKeys(t.Context(), db, dsn, keyFile, discardLog()))
		svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: defaultBaseURL, Hasher: passwordHasher})
		// A second factor enrolled (the path the login page's enrolment takes).
		totp := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("twenty-byte-secret!!"))
		require.NoError(t, svc.SetTOTP(t.Context(), orgmodel.Actor{UserSID: orgmodel.UserSID(owner), Via: "sso"}, orgmodel.UserSID(owner), keep(totp)))
		setup, err := svc.CreateSetupLink(t.Context(), orgmodel.Actor{UserSID: orgmodel.UserSID(owner), Via: "console"}, orgmodel.OrgSID(org), "IT", 24*time.Hour)
		require.NoError(t, err)
		keep(setup.Token)
		ring, err := svc.SigningKeys(t.Context())
		require.NoError(t, err)
		for _, k := range append(ring.Verify, ring.Current) {
			secrets = append(secrets, string(k.Seed), hex.EncodeToString(k.Seed))
		}
		// Every link mailed (read back through the CLI, which opens them).
		bodies := 0
		for _, m := range c.ok("mail", "list").list("messages") {
			for _, match := range linkTokenRE.FindAllStringSubmatch(m.str("body"), -1) {
				keep(match[1])
				bodies++
			}
		}
		require.GreaterOrEqual(t, bodies, 3, "the invitations' and the reset's links")
		kb, err := os.ReadFile(keyFile)
		require.NoError(t, err)
		for _, line := range strings.Split(string(kb), "\n") {
			if _, key, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
				keep(key)
			}
		}
		require.NoError(t, s.stop())

		var raw []byte
		if p, err := sqlitePath("--db", dsn); err == nil {
			for _, f := range []string{p, p + "-wal", p + "-shm"} {
				b, err := os.ReadFile(f)
				if err == nil {
					raw = append(raw, b...)
				}
			}
			require.Greater(t, len(raw), 100_000, "the database file was read")
		} else {
			raw = dumpPostgres(t, dsn)
			require.True(t, bytes.Contains(raw, []byte("owner@secret.test")), "the dump holds the data")
		}
		require.True(t, bytes.Contains(raw, []byte("sealed:1:")), "sealed values are there")
		for _, sec := range secrets {
			for _, form := range encodings(sec) {
				require.Falsef(t, bytes.Contains(raw, []byte(form)), "the database holds the secret %q as %q", sec, form)
			}
		}
	})
}

// encodings are the forms a secret could be stored in.
func encodings(s string) []string {
	b := []byte(s)
	out := []string{s, hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}
	if raw, err := hex.DecodeString(s); err == nil && len(raw) >= 8 {
		out = append(out, string(raw), base64.StdEncoding.EncodeToString(raw))
	}
	if i := strings.IndexByte(s, '_'); i > 0 && i < 8 { // inv_…, scim_…: the random part alone
		out = append(out, s[i+1:])
	}
	return out
}

// dumpPostgres returns every text column of every table of dsn's database.
func dumpPostgres(t *testing.T, dsn string) []byte {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json')`)
	require.NoError(t, err)
	var cols [][2]string
	for rows.Next() {
		var tbl, col string
		require.NoError(t, rows.Scan(&tbl, &col))
		cols = append(cols, [2]string{tbl, col})
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Greater(t, len(cols), 30)
	var out bytes.Buffer
	for _, tc := range cols {
		r, err := db.QueryContext(t.Context(), `SELECT "`+tc[1]+`"::text FROM "`+tc[0]+`"`)
		require.NoError(t, err)
		for r.Next() {
			var v sql.NullString
			require.NoError(t, r.Scan(&v))
			out.WriteString(v.String)
			out.WriteByte('\n')
		}
		require.NoError(t, r.Err())
		r.Close()
	}
	return out.Bytes()
}

// loginSession logs in with a password at /login and returns the session
// cookie's value.
func loginSession(t *testing.T, base, email, pw string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := post("/login/password", url.Values{"email": {email}, "password": {pw}})
	for _, ck := range resp.Cookies() {
		if ck.Name == orgmodel.SessionCookie && ck.Value != "" {
			return ck.Value
		}
	}
	t.Fatalf("no session cookie after the password login (status %d)", resp.StatusCode)
	return ""
}
