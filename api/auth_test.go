package api_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	v2010 "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/orgd/orgd/api"
	"github.com/orgd/orgd/orgmodel"
)

// The Basic credential cache: what it trusts, and for how long.

func TestCredentialCache_ChangesMadeElsewhereReachThisProcessWithinTheTTL(t *testing.T) {
	// An hour-long TTL makes the bound visible without timing: a change
	// made behind this process's back (the CLI, another replica) is seen
	// when the entry expires or the cache is invalidated, not before.
	e := newEnvWith(t, api.AuthOptions{CredentialTTL: time.Hour})
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	sub, err := parent.Api.CreateAccount(nil)
	require.NoError(t, err)
	path := "/2010-04-01/Accounts/" + *sub.Sid + ".json"
	creds := basic(*sub.Sid, *sub.AuthToken)
	require.Equal(t, 200, e.raw("GET", path, creds, "").status)

	_, err = e.svc.SetAccountStatus(e.ctx, e.op, orgmodel.AccountSID(*sub.Sid), orgmodel.AccountClosed)
	require.NoError(t, err)
	require.Equal(t, 200, e.raw("GET", path, creds, "").status, "served from the cache until it expires")
	e.auth.InvalidateCredentials()
	requireTwilioBody(t, e.raw("GET", path, creds, ""), 401, 20003)
}

func TestCredentialCache_WithoutCacheEveryRequestReadsTheDatabase(t *testing.T) {
	e := newEnvWith(t, api.AuthOptions{CredentialTTL: -1})
	r := e.signup("owner@acme.test")
	creds := basic(string(r.AccountSID), r.AuthToken)
	path := "/2010-04-01/Accounts.json"
	require.Equal(t, 200, e.raw("GET", path, creds, "").status)
	rotated, err := e.svc.RotateAuthToken(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	requireTwilioBody(t, e.raw("GET", path, creds, ""), 401, 20003)
	require.Equal(t, 200, e.raw("GET", path, basic(string(r.AccountSID), rotated.AuthToken), "").status)
}

func TestCredentialCache_RotatedTokenStopsAndTheNewOneWorks(t *testing.T) {
	e := newEnvWith(t, api.AuthOptions{CredentialTTL: time.Hour})
	r := e.signup("owner@acme.test")
	old := basic(string(r.AccountSID), r.AuthToken)
	path := "/2010-04-01/Accounts.json"
	require.Equal(t, 200, e.raw("GET", path, old, "").status)
	rotated, err := e.svc.RotateAuthToken(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	// The new token is checked against the database at once.
	require.Equal(t, 200, e.raw("GET", path, basic(string(r.AccountSID), rotated.AuthToken), "").status)
	e.auth.InvalidateCredentials()
	requireTwilioBody(t, e.raw("GET", path, old, ""), 401, 20003)
}

func TestCredentialCache_AWrongSecretNeverHitsACachedEntry(t *testing.T) {
	e := newEnvWith(t, api.AuthOptions{CredentialTTL: time.Hour})
	r := e.signup("owner@acme.test")
	path := "/2010-04-01/Accounts.json"
	require.Equal(t, 200, e.raw("GET", path, basic(string(r.AccountSID), r.AuthToken), "").status)
	wrong := []byte(r.AuthToken)
	wrong[0] ^= 1
	requireTwilioBody(t, e.raw("GET", path, basic(string(r.AccountSID), string(wrong)), ""), 401, 20003)
	requireTwilioBody(t, e.raw("GET", path, basic(string(r.AccountSID), r.AuthToken+"x"), ""), 401, 20003)
	requireTwilioBody(t, e.raw("GET", path, basic(string(r.AccountSID)+"\x00", r.AuthToken), ""), 401, 20003)
}

func TestCredentialCache_ChangesThroughThisAPIApplyAtOnce(t *testing.T) {
	e := newEnvWith(t, api.AuthOptions{CredentialTTL: time.Hour})
	r := e.signup("owner@acme.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	sub, err := parent.Api.CreateAccount(nil)
	require.NoError(t, err)
	key, err := parent.Api.CreateNewKey((&v2010.CreateNewKeyParams{}).SetPathAccountSid(*sub.Sid))
	require.NoError(t, err)
	child := e.basicClient(*sub.Sid, *sub.AuthToken, orgmodel.AccountSID(*sub.Sid))
	childKey := e.basicClient(*key.Sid, *key.Secret, orgmodel.AccountSID(*sub.Sid))
	_, err = child.Api.FetchAccount(*sub.Sid)
	require.NoError(t, err)
	_, err = childKey.Api.FetchAccount(*sub.Sid)
	require.NoError(t, err)

	// Closing the parent's subaccount through the API: both of its
	// credentials stop with the answer, even with an hour-long TTL.
	_, err = parent.Api.UpdateAccount(*sub.Sid, (&v2010.UpdateAccountParams{}).SetStatus("closed"))
	require.NoError(t, err)
	_, err = child.Api.FetchAccount(*sub.Sid)
	twilioErr(t, err, 401, 20003)
	_, err = childKey.Api.FetchAccount(*sub.Sid)
	twilioErr(t, err, 401, 20003)
}
