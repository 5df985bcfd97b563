package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	v2010 "github.com/twilio/twilio-go/rest/api/v2010"
)

// toServer sends the SDK's requests, whatever Twilio host they name, to
// the orgd under test.
type toServer struct{ target *url.URL }

func (t toServer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, t.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

// TestServe_TwilioAPI drives `orgd serve` with the official twilio-go SDK:
// credentials from the CLI, subaccounts and the Organizations API over the
// wire, the CLI and the API seeing the same state.
func TestServe_TwilioAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		c := newCLI(t, dsn)
		s := startServe(t, c)
		u, err := url.Parse(s.url)
		require.NoError(t, err)
		hc := &http.Client{Transport: toServer{u}}

		su := c.ok("signup", "--email", "owner@acme.test", "--password", testPassword)
		acct, token, org := su.str("account_sid"), su.str("auth_token"), su.str("organization_sid")
		basic := &client.Client{Credentials: client.NewCredentials(acct, token), HTTPClient: hc}
		basic.SetAccountSid(acct)
		rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: basic})

		sub, err := rc.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("Team"))
		require.NoError(t, err)
		require.Equal(t, acct, *sub.OwnerAccountSid)
		shown := c.ok("account", "show", "--account", *sub.Sid)
		require.Equal(t, acct, shown.str("parent_sid"), "the CLI sees what the API made")

		// The CLI closes it: its credential stops within the cache's TTL.
		subClient := &client.Client{Credentials: client.NewCredentials(*sub.Sid, *sub.AuthToken), HTTPClient: hc}
		subRC := twilio.NewRestClientWithParams(twilio.ClientParams{Client: subClient})
		_, err = subRC.Api.FetchAccount(*sub.Sid)
		require.NoError(t, err)
		c.ok("account", "close", "--account", *sub.Sid)
		eventually(t, "a closed subaccount's credential stops", func() bool {
			_, err := subRC.Api.FetchAccount(*sub.Sid)
			var te *client.TwilioRestError
			return err != nil && errors.As(err, &te) && te.Status == 401
		})

		// The Organizations API with an OAuth client the CLI created.
		oc := c.ok("oauth-client", "create", "--org", org)
		bearer := &client.Client{Credentials: client.NewCredentials("", ""), HTTPClient: hc}
		bearer.SetOauth(twilio.NewAPIOAuth(client.NewRequestHandler(bearer),
			&twilio.OAuthCredentials{GrantType: "client_credentials", ClientId: oc.str("client_id"), ClientSecret: oc.str("client_secret")}))
		orgRC := twilio.NewRestClientWithParams(twilio.ClientParams{Client: bearer})
		accts, err := orgRC.PreviewIamOrganization.ListOrganizationAccounts(org, nil)
		require.NoError(t, err)
		require.Len(t, accts, 1)
		require.Equal(t, acct, accts[0].AccountSid)

		resp, body := get(t, s.url+"/openapi.json")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `"openapi": "3.1.0"`)
		_, metrics := get(t, s.url+"/metrics")
		for _, want := range []string{
			`route="/2010-04-01/Accounts.json"`,
			`route="/2010-04-01/Accounts/{AccountSid}.json"`,
			`route="/Organizations/{OrganizationSid}/Accounts"`,
			`route="/v2/token"`,
		} {
			require.Truef(t, strings.Contains(metrics, want), "/metrics names the API's routes: lacks %s", want)
		}
		require.NotContains(t, s.stderr.String(), token, "no credential reaches the log")
	})
}
