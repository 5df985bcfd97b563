package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v2010 "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/orgd/orgd/orgmodel"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// rfc2822 parses a 2010-04-01 date or fails the test.
func rfc2822(t *testing.T, s *string) time.Time {
	t.Helper()
	require.NotNil(t, s)
	tm, err := time.Parse(time.RFC1123Z, *s)
	require.NoError(t, err, "date %q is not RFC 2822", *s)
	return tm
}

func TestAccounts_SDKCreatesFetchesListsAndUpdatesSubaccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)

	sub, err := parent.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("Team A"))
	require.NoError(t, err)
	require.NotNil(t, sub.Sid)
	assert.True(t, orgmodel.ValidSID("AC", *sub.Sid))
	assert.Equal(t, "Team A", *sub.FriendlyName)
	assert.Equal(t, string(r.AccountSID), *sub.OwnerAccountSid)
	assert.Equal(t, "active", *sub.Status)
	assert.Equal(t, "Trial", *sub.Type)
	assert.Equal(t, "/2010-04-01/Accounts/"+*sub.Sid+".json", *sub.Uri)
	require.NotNil(t, sub.AuthToken, "the new subaccount's auth token is shown once")
	assert.Regexp(t, hex32, *sub.AuthToken)
	created := rfc2822(t, sub.DateCreated)
	assert.WithinDuration(t, time.Now(), created, time.Minute)
	rfc2822(t, sub.DateUpdated)
	require.NotNil(t, sub.SubresourceUris)
	uris := *sub.SubresourceUris
	assert.Len(t, uris, 20)
	assert.Equal(t, "/2010-04-01/Accounts/"+*sub.Sid+"/Keys.json", uris["keys"])
	assert.Equal(t, "/2010-04-01/Accounts/"+*sub.Sid+"/SMS/ShortCodes.json", uris["short_codes"])

	// Fetch: the auth token is never shown again.
	got, err := parent.Api.FetchAccount(*sub.Sid)
	require.NoError(t, err)
	assert.Nil(t, got.AuthToken)
	assert.Equal(t, "Team A", *got.FriendlyName)
	self, err := parent.Api.FetchAccount(string(r.AccountSID))
	require.NoError(t, err)
	assert.Equal(t, string(r.AccountSID), *self.OwnerAccountSid, "a parent account's owner is itself")

	// List: the parent and its subaccounts, with filters.
	all, err := parent.Api.ListAccount(nil)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	named, err := parent.Api.ListAccount((&v2010.ListAccountParams{}).SetFriendlyName("Team A"))
	require.NoError(t, err)
	require.Len(t, named, 1)
	assert.Equal(t, *sub.Sid, *named[0].Sid)
	suspended, err := parent.Api.ListAccount((&v2010.ListAccountParams{}).SetStatus("suspended"))
	require.NoError(t, err)
	assert.Empty(t, suspended)

	// Update: the name and the status.
	upd, err := parent.Api.UpdateAccount(*sub.Sid, (&v2010.UpdateAccountParams{}).SetFriendlyName("Team B").SetStatus("suspended"))
	require.NoError(t, err)
	assert.Equal(t, "Team B", *upd.FriendlyName)
	assert.Equal(t, "suspended", *upd.Status)
	suspended, err = parent.Api.ListAccount((&v2010.ListAccountParams{}).SetStatus("suspended"))
	require.NoError(t, err)
	assert.Len(t, suspended, 1)
	upd, err = parent.Api.UpdateAccount(*sub.Sid, (&v2010.UpdateAccountParams{}).SetStatus("active"))
	require.NoError(t, err)
	assert.Equal(t, "active", *upd.Status)
	assert.Equal(t, "Team B", *upd.FriendlyName)

	// A parent does not change its own status through the API (21477);
	// it may rename itself.
	_, err = parent.Api.UpdateAccount(string(r.AccountSID), (&v2010.UpdateAccountParams{}).SetStatus("suspended"))
	te := twilioErr(t, err, 403, 21477)
	assert.Equal(t, "R-ROLE-3", te.Details["rule"])
	me, err := parent.Api.UpdateAccount(string(r.AccountSID), (&v2010.UpdateAccountParams{}).SetFriendlyName("Main"))
	require.NoError(t, err)
	assert.Equal(t, "Main", *me.FriendlyName)
	assert.Equal(t, "active", *me.Status)

	// The audit log names the credential and the surface.
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "subaccount.create"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, string(r.AccountSID), evs[0].Actor)
	assert.Equal(t, "api", evs[0].Via)
	assert.Equal(t, "127.0.0.1", evs[0].RemoteAddr)
}

func TestRule_HIER_1_ASubaccountSeesOnlyItselfAndHasNoSubaccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	sub, err := parent.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("child"))
	require.NoError(t, err)
	child := e.basicClient(*sub.Sid, *sub.AuthToken, orgmodel.AccountSID(*sub.Sid))

	_, err = child.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("grandchild"))
	te := twilioErr(t, err, 400, 21101)
	assert.Equal(t, "R-HIER-1", te.Details["rule"])
	assert.True(t, strings.HasPrefix(te.Message, "R-HIER-1: "), te.Message)

	got, err := child.Api.FetchAccount(*sub.Sid)
	require.NoError(t, err)
	assert.Equal(t, string(r.AccountSID), *got.OwnerAccountSid)
	list, err := child.Api.ListAccount(nil)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, *sub.Sid, *list[0].Sid)

	// R-HIER-5: the parent is out of the subaccount's reach, exactly like
	// an account that does not exist.
	_, err = child.Api.FetchAccount(string(r.AccountSID))
	te = twilioErr(t, err, 404, 20404)
	assert.Equal(t, "The requested resource /2010-04-01/Accounts/"+string(r.AccountSID)+".json was not found", te.Message)
	_, err = child.Api.UpdateAccount(string(r.AccountSID), (&v2010.UpdateAccountParams{}).SetFriendlyName("mine now"))
	twilioErr(t, err, 404, 20404)
	// Nor may it change its own status: that is its parent's call.
	_, err = child.Api.UpdateAccount(*sub.Sid, (&v2010.UpdateAccountParams{}).SetStatus("closed"))
	te = twilioErr(t, err, 403, 20403)
	assert.Equal(t, "R-ROLE-3", te.Details["rule"])
}

func TestRule_HIER_4_SubaccountLimitAnswers21480(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	_, err := parent.Api.CreateAccount(nil) // Twilio's default name
	require.NoError(t, err)
	_, err = parent.Api.CreateAccount(nil)
	te := twilioErr(t, err, 400, 21480)
	assert.Equal(t, "R-HIER-4", te.Details["rule"], "a trial account holds one subaccount")

	_, err = e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	_, err = e.svc.SetSubaccountLimit(e.ctx, e.op, r.AccountSID, 3)
	require.NoError(t, err)
	for range 2 {
		s, err := parent.Api.CreateAccount(nil)
		require.NoError(t, err)
		assert.Equal(t, "Full", *s.Type)
		assert.True(t, strings.HasPrefix(*s.FriendlyName, "SubAccount Created at "), *s.FriendlyName)
	}
	_, err = parent.Api.CreateAccount(nil)
	twilioErr(t, err, 400, 21480)
}

func TestRule_ACCT_9_ClosedIsFinalAndAParentActsOnItsSubaccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	a, err := parent.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("a"))
	require.NoError(t, err)
	b, err := parent.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("b"))
	require.NoError(t, err)
	child := e.basicClient(*a.Sid, *a.AuthToken, orgmodel.AccountSID(*a.Sid))
	_, err = child.Api.FetchAccount(*a.Sid)
	require.NoError(t, err)

	// Suspending the parent (the console or CLI does it) suspends both.
	_, err = e.svc.SetAccountStatus(e.ctx, e.op, r.AccountSID, orgmodel.AccountSuspended)
	require.NoError(t, err)
	for _, s := range []*v2010.ApiV2010Account{a, b} {
		got, err := parent.Api.FetchAccount(*s.Sid)
		require.NoError(t, err)
		assert.Equal(t, "suspended", *got.Status)
	}
	_, err = parent.Api.UpdateAccount(*a.Sid, (&v2010.UpdateAccountParams{}).SetStatus("active"))
	te := twilioErr(t, err, 400, 21476)
	assert.Equal(t, "R-ACCT-9", te.Details["rule"])
	_, err = e.svc.SetAccountStatus(e.ctx, e.op, r.AccountSID, orgmodel.AccountActive)
	require.NoError(t, err)
	got, err := parent.Api.FetchAccount(*a.Sid)
	require.NoError(t, err)
	assert.Equal(t, "active", *got.Status, "reactivating the parent reactivates what it suspended")

	// Closing a subaccount is final, and its credentials stop at once.
	closed, err := parent.Api.UpdateAccount(*a.Sid, (&v2010.UpdateAccountParams{}).SetStatus("closed"))
	require.NoError(t, err)
	assert.Equal(t, "closed", *closed.Status)
	_, err = child.Api.FetchAccount(*a.Sid)
	twilioErr(t, err, 401, 20003)
	for _, st := range []string{"active", "suspended"} {
		_, err = parent.Api.UpdateAccount(*a.Sid, (&v2010.UpdateAccountParams{}).SetStatus(st))
		te = twilioErr(t, err, 400, 21479)
		assert.Equal(t, "R-ACCT-9", te.Details["rule"])
	}
	// Closed accounts stay listed.
	closedList, err := parent.Api.ListAccount((&v2010.ListAccountParams{}).SetStatus("closed"))
	require.NoError(t, err)
	require.Len(t, closedList, 1)
	assert.Equal(t, *a.Sid, *closedList[0].Sid)
}

func TestRule_HIPAA_3_NewSubaccountInheritsItsParentsFlag(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.RecordBAA(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	_, err = e.svc.SetHIPAA(e.ctx, e.op, r.AccountSID, true)
	require.NoError(t, err)
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	sub, err := parent.Api.CreateAccount(nil)
	require.NoError(t, err)
	v, err := e.svc.GetAccount(e.ctx, e.op, orgmodel.AccountSID(*sub.Sid))
	require.NoError(t, err)
	assert.True(t, v.HIPAA)
}

func TestAccounts_ListPagesWithTwilioEnvelope(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	want := []string{string(r.AccountSID)}
	for range 6 {
		s, err := parent.Api.CreateAccount(nil)
		require.NoError(t, err)
		want = append(want, *s.Sid)
	}
	// The SDK follows next_page_uri through every page.
	all, err := parent.Api.ListAccount((&v2010.ListAccountParams{}).SetPageSize(2))
	require.NoError(t, err)
	var got []string
	for _, a := range all {
		got = append(got, *a.Sid)
	}
	assert.ElementsMatch(t, want, got)
	assert.IsIncreasing(t, got, "SID order")

	first, err := parent.Api.PageAccount((&v2010.ListAccountParams{}).SetPageSize(3), "", "")
	require.NoError(t, err)
	assert.Equal(t, 0, first.Page)
	assert.Equal(t, 3, first.PageSize)
	assert.Equal(t, 0, first.Start)
	assert.Equal(t, 2, first.End)
	assert.Nil(t, first.PreviousPageUri)
	assert.Equal(t, "/2010-04-01/Accounts.json?Page=0&PageSize=3", first.FirstPageUri)
	require.NotNil(t, first.NextPageUri)
	assert.Equal(t, "/2010-04-01/Accounts.json?Page=1&PageSize=3&PageToken=PA"+got[2], *first.NextPageUri)
	second, err := parent.Api.PageAccount((&v2010.ListAccountParams{}).SetPageSize(3), "PA"+got[2], "1")
	require.NoError(t, err)
	assert.Equal(t, 1, second.Page)
	assert.Equal(t, 3, second.Start)
	assert.Equal(t, 5, second.End)
	require.NotNil(t, second.PreviousPageUri)
	assert.Equal(t, first.FirstPageUri, *second.PreviousPageUri)
	require.Len(t, second.Accounts, 3)
	assert.Equal(t, got[3], *second.Accounts[0].Sid)
	// Page without a token skips Page×PageSize items: the same page.
	byNumber, err := parent.Api.PageAccount((&v2010.ListAccountParams{}).SetPageSize(3), "", "1")
	require.NoError(t, err)
	require.Len(t, byNumber.Accounts, 3)
	assert.Equal(t, *second.Accounts[0].Sid, *byNumber.Accounts[0].Sid)
	last, err := parent.Api.PageAccount((&v2010.ListAccountParams{}).SetPageSize(3), "PA"+got[5], "2")
	require.NoError(t, err)
	require.Len(t, last.Accounts, 1)
	assert.Nil(t, last.NextPageUri)
	// Filters travel in the links.
	f, err := parent.Api.PageAccount((&v2010.ListAccountParams{}).SetPageSize(1).SetStatus("active"), "", "")
	require.NoError(t, err)
	require.NotNil(t, f.NextPageUri)
	assert.Contains(t, *f.NextPageUri, "Status=active")
}

func TestKeys_SDKCreatesUsesListsUpdatesAndDeletesAPIKeys(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)

	k, err := parent.Api.CreateNewKey((&v2010.CreateNewKeyParams{}).SetFriendlyName("ci"))
	require.NoError(t, err)
	require.NotNil(t, k.Sid)
	assert.True(t, orgmodel.ValidSID("SK", *k.Sid))
	require.NotNil(t, k.Secret)
	assert.Regexp(t, hex32, *k.Secret)
	assert.Equal(t, "ci", *k.FriendlyName)
	rfc2822(t, k.DateCreated)

	// The key authenticates as its account.
	withKey := e.basicClient(*k.Sid, *k.Secret, r.AccountSID)
	acct, err := withKey.Api.FetchAccount(string(r.AccountSID))
	require.NoError(t, err)
	assert.Equal(t, string(r.AccountSID), *acct.Sid)
	sub, err := withKey.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("made with a key"))
	require.NoError(t, err)
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "subaccount.create"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "key:"+*k.Sid, evs[0].Actor)

	keys, err := parent.Api.ListKey(nil)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, *k.Sid, *keys[0].Sid)
	fetched, err := parent.Api.FetchKey(*k.Sid, nil)
	require.NoError(t, err)
	assert.Equal(t, "ci", *fetched.FriendlyName)
	upd, err := parent.Api.UpdateKey(*k.Sid, (&v2010.UpdateKeyParams{}).SetFriendlyName("deploy"))
	require.NoError(t, err)
	assert.Equal(t, "deploy", *upd.FriendlyName)

	// The parent manages its subaccount's keys; the subaccount's key does
	// not reach the parent.
	sk, err := parent.Api.CreateNewKey((&v2010.CreateNewKeyParams{}).SetPathAccountSid(*sub.Sid).SetFriendlyName("sub key"))
	require.NoError(t, err)
	subKey := e.basicClient(*sk.Sid, *sk.Secret, orgmodel.AccountSID(*sub.Sid))
	_, err = subKey.Api.FetchAccount(*sub.Sid)
	require.NoError(t, err)
	_, err = subKey.Api.FetchAccount(string(r.AccountSID))
	twilioErr(t, err, 404, 20404)
	_, err = subKey.Api.ListKey((&v2010.ListKeyParams{}).SetPathAccountSid(string(r.AccountSID)))
	twilioErr(t, err, 404, 20404)
	_, err = subKey.Api.FetchKey(*k.Sid, (&v2010.FetchKeyParams{}).SetPathAccountSid(*sub.Sid))
	twilioErr(t, err, 404, 20404)

	// Deleting the key stops it at once.
	require.NoError(t, parent.Api.DeleteKey(*k.Sid, nil))
	_, err = withKey.Api.FetchAccount(string(r.AccountSID))
	twilioErr(t, err, 401, 20003)
	_, err = parent.Api.FetchKey(*k.Sid, nil)
	twilioErr(t, err, 404, 20404)
	err = parent.Api.DeleteKey(*k.Sid, nil)
	twilioErr(t, err, 404, 20404)
}

func TestKeys_ListPages(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	parent := e.basicClient(string(r.AccountSID), r.AuthToken, r.AccountSID)
	var want []string
	for range 5 {
		k, err := parent.Api.CreateNewKey(nil)
		require.NoError(t, err)
		want = append(want, *k.Sid)
	}
	keys, err := parent.Api.ListKey((&v2010.ListKeyParams{}).SetPageSize(2))
	require.NoError(t, err)
	var got []string
	for _, k := range keys {
		got = append(got, *k.Sid)
		assert.Equal(t, "API key", *k.FriendlyName)
	}
	assert.ElementsMatch(t, want, got)
}

// TestIsolation_AccountCredentialsNeverReachAnotherAccount checks every
// 2010-04-01 path with credentials of an unrelated account, of a
// subaccount's sibling and of an API key: the answer is the one for an
// account that does not exist.
func TestIsolation_AccountCredentialsNeverReachAnotherAccount(t *testing.T) {
	e := newEnv(t)
	a := e.signup("owner@acme.test")
	b := e.signup("owner@other.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, a.AccountSID)
	require.NoError(t, err)
	ac := e.basicClient(string(a.AccountSID), a.AuthToken, a.AccountSID)
	bc := e.basicClient(string(b.AccountSID), b.AuthToken, b.AccountSID)
	s1, err := ac.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("s1"))
	require.NoError(t, err)
	s2, err := ac.Api.CreateAccount((&v2010.CreateAccountParams{}).SetFriendlyName("s2"))
	require.NoError(t, err)
	aKey, err := ac.Api.CreateNewKey(nil)
	require.NoError(t, err)
	sibling := e.basicClient(*s2.Sid, *s2.AuthToken, orgmodel.AccountSID(*s2.Sid))
	const ghost = "AC0123456789abcdef0123456789abcdef"

	check := func(t *testing.T, label string, err error, sid string) {
		t.Helper()
		te := twilioErr(t, err, 404, 20404)
		assert.NotContains(t, te.Message, "R-", label)
		assert.Contains(t, te.Message, sid, label)
	}
	for _, target := range []string{string(a.AccountSID), *s1.Sid, ghost} {
		_, err := bc.Api.FetchAccount(target)
		check(t, "other organization fetch "+target, err, target)
		_, err = bc.Api.UpdateAccount(target, (&v2010.UpdateAccountParams{}).SetStatus("closed"))
		check(t, "other organization update "+target, err, target)
		_, err = bc.Api.ListKey((&v2010.ListKeyParams{}).SetPathAccountSid(target))
		check(t, "other organization keys "+target, err, target)
		_, err = bc.Api.CreateNewKey((&v2010.CreateNewKeyParams{}).SetPathAccountSid(target))
		check(t, "other organization new key "+target, err, target)
	}
	_, err = sibling.Api.FetchAccount(*s1.Sid)
	check(t, "sibling fetch", err, *s1.Sid)
	_, err = sibling.Api.UpdateAccount(*s1.Sid, (&v2010.UpdateAccountParams{}).SetFriendlyName("x"))
	check(t, "sibling update", err, *s1.Sid)
	err = bc.Api.DeleteKey(*aKey.Sid, (&v2010.DeleteKeyParams{}).SetPathAccountSid(string(b.AccountSID)))
	check(t, "other's key under own account", err, *aKey.Sid)
	_, err = bc.Api.FetchKey(*aKey.Sid, (&v2010.FetchKeyParams{}).SetPathAccountSid(string(a.AccountSID)))
	check(t, "other's key under its account", err, string(a.AccountSID))
	list, err := bc.Api.ListAccount(nil)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, string(b.AccountSID), *list[0].Sid)
	sibList, err := sibling.Api.ListAccount(nil)
	require.NoError(t, err)
	require.Len(t, sibList, 1)

	// Nothing changed.
	v, err := e.svc.GetAccount(e.ctx, e.op, orgmodel.AccountSID(*s1.Sid))
	require.NoError(t, err)
	assert.Equal(t, "s1", v.FriendlyName)
	assert.Equal(t, orgmodel.AccountActive, v.Status)
}
