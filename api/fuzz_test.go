package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// FuzzTwilioForm sends any form body and query string to every route of
// the Twilio-compatible API that reads parameters (Accounts, Keys, the
// token endpoint and the Organizations API's RoleAssignments), with valid
// credentials so that the parameters are what is parsed. Whatever arrives,
// the answer is never a 5xx, always Twilio's error shape when it is a
// refusal (code, message, status), holds nothing internal, and matches
// openapi.json (env.raw checks every answer against it). Its seed corpus
// runs in every go test; `make fuzz` explores.
func FuzzTwilioForm(f *testing.F) {
	seeds := []struct {
		route       uint8
		query, body string
	}{
		{0, "", "FriendlyName=sub"},
		{0, "", "FriendlyName=" + strings.Repeat("n", 300)},
		{0, "", "FriendlyName=%ZZ"},
		{1, "PageSize=2&Page=1&PageToken=PAabc", ""},
		{1, "FriendlyName=x&Status=closed&PageSize=-1", ""},
		{1, "PageSize=99999999999999999999", ""},
		{1, "Page=3", ""},
		{2, "", "Status=suspended"},
		{2, "", "Status=closed&FriendlyName="},
		{2, "", "Status=active&Status=closed"},
		{3, "", "FriendlyName=k"},
		{4, "PageSize=1&PageToken=x", ""},
		{5, "", "FriendlyName=\x00"},
		{6, "", "grant_type=client_credentials&client_id={client}&client_secret=x"},
		{6, "", "grant_type=password&client_id=OQ&client_secret="},
		{7, "", `{"role_sid":"IX00000000000000000000000000000102","scope":"{org}","identity":"{user}"}`},
		{7, "", `{"role_sid":"IX00000000000000000000000000000101","scope":"{acct}","identity":"{user}"}`},
		{7, "", `{"role_sid":1,"scope":null}`},
		{8, "Identity={user}&Scope={org}&PageSize=1", ""},
		{8, "PageToken=%00&Page=-3", ""},
	}
	for _, s := range seeds {
		f.Add(s.route, s.query, s.body)
	}
	e := newEnv(f)
	r := e.signup("owner@acme.test")
	std := e.member(r, "std@acme.test", orgmodel.RoleStandard)
	auth := basic(string(r.AccountSID), r.AuthToken)
	sub, err := e.svc.CreateSubaccount(e.ctx, e.op, r.AccountSID, "fuzzed")
	require.NoError(f, err)
	key, err := e.svc.CreateAPIKey(e.ctx, e.op, r.AccountSID, "fuzzed")
	require.NoError(f, err)
	client := e.oauthClient(r.OrgSID)
	tok := e.token(client)
	rep := strings.NewReplacer("{org}", string(r.OrgSID), "{acct}", string(r.AccountSID), "{user}", string(std), "{client}", string(client.ClientID))

	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		e := e.with(t)
		query, body = rep.Replace(query), rep.Replace(body)
		var method, path string
		h := form(auth)
		switch route % 9 {
		case 0:
			method, path = "POST", "/2010-04-01/Accounts.json"
		case 1:
			method, path = "GET", "/2010-04-01/Accounts.json"
		case 2:
			method, path = "POST", "/2010-04-01/Accounts/"+string(sub.SID)+".json"
		case 3:
			method, path = "POST", "/2010-04-01/Accounts/"+string(r.AccountSID)+"/Keys.json"
		case 4:
			method, path = "GET", "/2010-04-01/Accounts/"+string(r.AccountSID)+"/Keys.json"
		case 5:
			method, path = "POST", "/2010-04-01/Accounts/"+string(r.AccountSID)+"/Keys/"+string(key.SID)+".json"
		case 6:
			method, path, h = "POST", "/v2/token", form(nil)
		case 7:
			method, path = "POST", "/Organizations/"+string(r.OrgSID)+"/RoleAssignments"
			h = bearer(tok)
			h["Content-Type"] = "application/json"
		case 8:
			method, path, h = "GET", "/Organizations/"+string(r.OrgSID)+"/RoleAssignments", bearer(tok)
		}
		if query != "" {
			path += "?" + requestTarget(query)
		}
		res := e.raw(method, path, h, body)
		require.Less(t, res.status, 500, "%s %s %q: %s", method, path, body, res.text)
		if res.status >= 400 {
			require.NotNil(t, res.body, "a refusal is JSON: %q", res.text)
			require.NotEmpty(t, res.body["message"], res.text)
			require.EqualValues(t, res.status, res.body["status"], res.text)
			require.NotNil(t, res.body["code"], res.text)
		}
		for _, leak := range []string{"SQL", "sqlite", "goroutine", "panic", "runtime."} {
			if !strings.Contains(strings.ToLower(query+body), strings.ToLower(leak)) { // an echo of the input is no leak
				require.NotContains(t, res.text, leak)
			}
		}
	})
}

// requestTarget percent-encodes the bytes a request line cannot carry
// (spaces, controls, non-ASCII, '#'), so that the query reaches the
// handler as sent rather than being refused by the HTTP server.
func requestTarget(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// with returns e reporting to t.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}
