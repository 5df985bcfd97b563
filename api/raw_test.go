package api_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
)

// What the SDK cannot send: requests without, or with broken, credentials;
// malformed and oversized bodies; paths and methods that do not exist.

func requireTwilioBody(t *testing.T, res rawResp, status, code int) {
	t.Helper()
	require.Equal(t, status, res.status, res.text)
	require.NotNil(t, res.body, "JSON body, got %q", res.text)
	assert.EqualValues(t, code, res.body["code"], res.text)
	assert.EqualValues(t, status, res.body["status"], res.text)
	assert.Equal(t, "https://www.twilio.com/docs/errors/"+strconv.Itoa(code), res.body["more_info"])
	msg, _ := res.body["message"].(string)
	assert.NotEmpty(t, msg)
	for _, leak := range []string{"sql", "SELECT", "goroutine", "panic", "runtime."} {
		assert.NotContains(t, res.text, leak)
	}
}

func TestRaw_BasicAuthIsRequiredAndChecked(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	path := "/2010-04-01/Accounts/" + string(r.AccountSID) + ".json"

	res := e.raw("GET", path, nil, "")
	requireTwilioBody(t, res, 401, 20003)
	assert.Equal(t, `Basic realm="Twilio API"`, res.header.Get("WWW-Authenticate"))
	assert.Equal(t, "Authentication Error - no credentials provided", res.body["message"])

	bad := []map[string]string{
		basic(string(r.AccountSID), "0123456789abcdef0123456789abcdef"), // wrong token
		basic(string(r.AccountSID), ""),                                 // empty token
		basic("AC0123456789abcdef0123456789abcdef", r.AuthToken),        // another account's SID
		basic("admin", r.AuthToken),                                     // not a SID
		basic("SK0123456789abcdef0123456789abcdef", r.AuthToken),        // no such key
		basic(string(r.AccountSID), strings.Repeat("a", 500)),           // oversized secret
		{"Authorization": "Basic !!!not-base64"},
		{"Authorization": "Bearer " + r.AuthToken},
	}
	var first string
	for i, h := range bad {
		res := e.raw("GET", path, h, "")
		requireTwilioBody(t, res, 401, 20003)
		if i == 0 {
			first = res.text
		} else if h["Authorization"] != "Basic !!!not-base64" && !strings.HasPrefix(h["Authorization"], "Bearer") {
			assert.Equal(t, first, res.text, "one answer whatever part of the credential was wrong")
		}
	}
	ok := e.raw("GET", path, basic(string(r.AccountSID), r.AuthToken), "")
	require.Equal(t, 200, ok.status, ok.text)
	assert.Equal(t, string(r.AccountSID), ok.body["sid"])
	assert.Equal(t, "no-store", ok.header.Get("Cache-Control"))
}

func TestRaw_BarePathsAndJSONPathsAreTheSame(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	auth := basic(string(r.AccountSID), r.AuthToken)
	a := e.raw("GET", "/2010-04-01/Accounts/"+string(r.AccountSID)+".json", auth, "")
	b := e.raw("GET", "/2010-04-01/Accounts/"+string(r.AccountSID), auth, "")
	require.Equal(t, 200, a.status)
	require.Equal(t, 200, b.status)
	assert.Equal(t, a.body, b.body)
	created := e.raw("POST", "/2010-04-01/Accounts", form(auth), "FriendlyName=bare")
	require.Equal(t, 201, created.status, created.text)
	assert.Equal(t, "bare", created.body["friendly_name"])
	list := e.raw("GET", "/2010-04-01/Accounts", auth, "")
	require.Equal(t, 200, list.status)
	assert.Len(t, list.body["accounts"], 2)
	assert.Equal(t, "/2010-04-01/Accounts?Page=0&PageSize=50", list.body["first_page_uri"])
}

func TestRaw_MalformedRequestsAreTheClientsMistake(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	auth := basic(string(r.AccountSID), r.AuthToken)
	acct := "/2010-04-01/Accounts/" + string(r.AccountSID) + ".json"
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status, code       int
		field              string
	}{
		{"bad percent-encoding", "POST", "/2010-04-01/Accounts.json", form(auth), "FriendlyName=%zz", 400, 21100, "body"},
		{"JSON to a form endpoint", "POST", "/2010-04-01/Accounts.json", map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/json"}, `{"FriendlyName":"x"}`, 400, 21100, "body"},
		{"unknown status", "POST", acct, form(auth), "Status=deleted", 400, 21100, "status"},
		{"empty name", "POST", acct, form(auth), "FriendlyName=", 400, 21100, "FriendlyName"},
		{"control characters", "POST", acct, form(auth), "FriendlyName=a%00b", 400, 21100, "FriendlyName"},
		{"name too long", "POST", acct, form(auth), "FriendlyName=" + strings.Repeat("x", 256), 400, 21100, "FriendlyName"},
		{"PageSize 0", "GET", "/2010-04-01/Accounts.json?PageSize=0", auth, "", 400, 21100, "PageSize"},
		{"PageSize too big", "GET", "/2010-04-01/Accounts.json?PageSize=1001", auth, "", 400, 21100, "PageSize"},
		{"Page negative", "GET", "/2010-04-01/Accounts.json?Page=-1", auth, "", 400, 21100, "Page"},
		{"forged PageToken", "GET", "/2010-04-01/Accounts.json?PageToken=PA%27%20OR%201%3D1%20--", auth, "", 400, 21100, "PageToken"},
		{"key PageToken on accounts", "GET", "/2010-04-01/Accounts.json?PageToken=PASK0123456789abcdef0123456789abcdef", auth, "", 400, 21100, "PageToken"},
		{"unknown Status filter", "GET", "/2010-04-01/Accounts.json?Status=gone", auth, "", 400, 21100, "Status"},
		{"account SID malformed", "GET", "/2010-04-01/Accounts/ACnothex.json", auth, "", 404, 20404, ""},
		{"unknown path", "GET", "/2010-04-01/Accounts/" + string(r.AccountSID) + "/Calls.json", auth, "", 404, 20404, ""},
		{"unknown top path", "GET", "/nowhere", nil, "", 404, 20404, ""},
		{"DELETE an account", "DELETE", acct, auth, "", 405, 20004, ""},
		{"PUT accounts", "PUT", "/2010-04-01/Accounts.json", auth, "", 405, 20004, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.raw(c.method, c.path, c.header, c.body)
			requireTwilioBody(t, res, c.status, c.code)
			if c.field != "" {
				details, _ := res.body["details"].(map[string]any)
				assert.Equal(t, c.field, details["field"], res.text)
			}
		})
	}
	// Nothing was changed by any of them.
	v, err := e.svc.GetAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountActive, v.Status)
	subs, err := e.svc.ListSubaccounts(e.ctx, e.op, r.AccountSID, orgmodel.AccountFilter{})
	require.NoError(t, err)
	assert.Empty(t, subs)
}

func TestRaw_OversizedBodiesAre413(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	auth := basic(string(r.AccountSID), r.AuthToken)
	big := "FriendlyName=" + strings.Repeat("x", api.DefaultMaxBodyBytes)
	res := e.raw("POST", "/2010-04-01/Accounts.json", form(auth), big)
	requireTwilioBody(t, res, 413, 21100)

	// Without a Content-Length (chunked), the limit still holds.
	req := strings.NewReader(big)
	res = e.rawReader("POST", "/2010-04-01/Accounts/"+string(r.AccountSID)+".json", form(auth), req)
	requireTwilioBody(t, res, 413, 21100)
	res = e.rawReader("POST", "/v2/token", form(nil), strings.NewReader("grant_type=client_credentials&client_id="+strings.Repeat("x", api.DefaultMaxBodyBytes)))
	requireTwilioBody(t, res, 413, 400)

	subs, err := e.svc.ListSubaccounts(e.ctx, e.op, r.AccountSID, orgmodel.AccountFilter{})
	require.NoError(t, err)
	assert.Empty(t, subs)
}

func TestRaw_UnexpectedErrorsAreLoggedAndAnsweredWithAReference(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	auth := basic(string(r.AccountSID), r.AuthToken)
	// Warm the credential cache, then take the database away.
	require.Equal(t, 200, e.raw("GET", "/2010-04-01/Accounts.json", auth, "").status)
	require.NoError(t, e.db.Close())
	res := e.raw("GET", "/2010-04-01/Accounts/"+string(r.AccountSID)+".json", auth, "")
	requireTwilioBody(t, res, 500, 20500)
	details, _ := res.body["details"].(map[string]any)
	ref, _ := details["reference"].(string)
	assert.Len(t, ref, 16)
	assert.Equal(t, "internal server error (reference "+ref+")", res.body["message"])
	assert.NotContains(t, res.text, "closed")
}
