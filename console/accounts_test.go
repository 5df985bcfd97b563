package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestAccounts_CreateAndRun: create an account (token shown once), see it
// in the list, run its lifecycle, subaccounts, ownership and grants, each
// form answering with what it did or with the refusal next to it.
func TestAccounts_CreateAndRun(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	admin := e.member(r.OrgSID, "admin@acme.test", orgmodel.RoleAdministrator)
	std := e.member(r.OrgSID, "std@acme.test", orgmodel.RoleStandard)
	b := e.as(admin)

	p := b.post("/console/accounts", url.Values{"name": {"Production"}, "usage": {"flex"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	sid := regexp.MustCompile(`AC[0-9a-f]{32}`).FindString(p.body)
	token := regexp.MustCompile(`id="new-token" class="secret">([0-9a-f]{32})<`).FindStringSubmatch(p.body)
	require.Len(t, token, 2, "the auth token is shown")
	acct, err := e.svc.GetAccount(e.ctx, e.op, orgmodel.AccountSID(sid))
	require.NoError(t, err)
	assert.Equal(t, orgmodel.HashToken(token[1]), acct.AuthTokenHash)
	assert.Equal(t, orgmodel.UsageFlex, acct.Usage)
	assert.Equal(t, admin, acct.OwnerSID)
	// The token is never shown again.
	page := b.get("/console/accounts/" + sid)
	require.Equal(t, http.StatusOK, page.status)
	assert.NotContains(t, page.body, token[1])
	list := b.get("/console/accounts")
	assert.Contains(t, list.body, "Production")
	assert.Contains(t, list.body, `rel-managed`)
	assert.NotContains(t, list.body, token[1])

	// A refused creation keeps the form and shows why.
	p = b.post("/console/accounts", url.Values{"name": {"  "}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "create"), "name must not be empty")

	// Rename, subaccount, suspend (the subaccount follows), reactivate.
	got := b.follow("/console/accounts/"+sid+"/rename", url.Values{"name": {"Prod"}})
	assert.Contains(t, text(got.body), "Renamed to Prod.")
	p = b.post("/console/accounts/"+sid+"/subaccounts", url.Values{"name": {"EU"}})
	require.Equal(t, http.StatusCreated, p.status, text(p.body))
	sub := regexp.MustCompile(`id="new-sid">(AC[0-9a-f]{32})<`).FindStringSubmatch(p.body)[1]
	// A trial account holds one subaccount (R-HIER-4): the refusal says what to do.
	p = b.post("/console/accounts/"+sid+"/subaccounts", url.Values{"name": {"US"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "subaccount"), "R-HIER-4")
	assert.Contains(t, refusal(p.body, "subaccount"), "orgd account upgrade")
	got = b.follow("/console/accounts/"+sid+"/status", url.Values{"status": {"suspended"}})
	assert.Contains(t, text(got.body), "Prod is suspended. Its subaccounts follow.")
	subPage := b.get("/console/accounts/" + sub)
	assert.Contains(t, subPage.body, `st-suspended`)
	assert.Contains(t, subPage.body, `href="/console/accounts/`+sid+`"`, "a subaccount links to its parent")
	// A subaccount cannot be reactivated under a suspended parent (R-ACCT-9).
	p = b.post("/console/accounts/"+sub+"/status", url.Values{"status": {"active"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "status"), "R-ACCT-9")
	assert.Contains(t, refusal(p.body, "status"), "reactivate the parent first")
	b.follow("/console/accounts/"+sid+"/status", url.Values{"status": {"active"}})

	// Transfer only to a managed user of the organization (R-ACCT-5).
	p = b.post("/console/accounts/"+sid+"/transfer", url.Values{"to": {"stranger@else.test"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, refusal(p.body, "transfer"), "R-ACCT-5")
	assert.Contains(t, p.body, `value="stranger@else.test"`, "the form keeps what was typed")
	got = b.follow("/console/accounts/"+sid+"/transfer", url.Values{"to": {"std@acme.test"}})
	assert.Contains(t, text(got.body), "is now owned by std@acme.test")

	// Grants: give and take access.
	other, err := e.svc.CreateAccount(e.ctx, e.op, r.OrgSID, "Other", "")
	require.NoError(t, err)
	got = b.follow("/console/accounts/"+string(other.SID)+"/grants", url.Values{"user": {string(std)}, "role": {"billing"}})
	assert.Contains(t, text(got.body), "has billing access")
	assert.Contains(t, got.body, `/grants/`+string(std)+`/revoke`)
	assert.Contains(t, e.as(std).get("/console/accounts").body, "Other")
	p = b.post("/console/accounts/"+string(other.SID)+"/grants", url.Values{"user": {string(std)}, "role": {"root"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "grant"), "not an account role")
	got = b.follow("/console/accounts/"+string(other.SID)+"/grants/"+string(std)+"/revoke", nil)
	assert.Contains(t, text(got.body), "no longer has access")
	assert.NotContains(t, e.as(std).get("/console/accounts").body, "Other")

	// Close is final.
	got = b.follow("/console/accounts/"+string(other.SID)+"/status", url.Values{"status": {"closed"}, "confirm": {"yes"}})
	assert.Contains(t, text(got.body), "Other is closed.")
	p = b.post("/console/accounts/"+string(other.SID)+"/status", url.Values{"status": {"active"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, text(p.body), "R-ACCT-9")

	// Every change is in the audit log as the console user.
	evs := e.audit(r.OrgSID, "account.")
	require.NotEmpty(t, evs)
	for _, ev := range evs {
		if ev.Actor == string(admin) {
			assert.Equal(t, "console", ev.Via)
			assert.Equal(t, "127.0.0.1", ev.RemoteAddr)
		}
	}
}

// TestAccounts_HIPAA: the flag needs a recorded BAA (R-HIPAA-1), and a
// visit to a flagged account shortens the session's idle timeout to 15
// minutes (NoteAccountVisit).
func TestAccounts_HIPAA(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)
	acct := "/console/accounts/" + string(r.AccountSID)
	p := b.post(acct+"/hipaa", url.Values{"enabled": {"true"}})
	assert.Equal(t, http.StatusConflict, p.status)
	msg := refusal(p.body, "hipaa")
	assert.Contains(t, msg, "R-HIPAA-1")
	assert.Contains(t, msg, "Record the organization's executed BAA first")
	assert.Contains(t, p.body, `href="/console/org#baa"`)

	idle := func() time.Duration {
		var s *orgmodel.Session
		require.NoError(t, e.db.Read(e.ctx, func(tx orgmodel.Tx) error {
			var err error
			s, err = tx.GetSessionByTokenHash(e.ctx, orgmodel.HashToken(b.token))
			return err
		}))
		return time.Duration(s.IdleTTL) * time.Second
	}
	require.Equal(t, orgmodel.SessionIdleTTL, idle(), "visiting a plain account changes nothing")

	got := b.follow("/console/org/baa", url.Values{"confirm": {"yes"}})
	assert.Contains(t, text(got.body), "The BAA is recorded.")
	got = b.follow(acct+"/hipaa", url.Values{"enabled": {"true"}})
	assert.Contains(t, text(got.body), "is designated for HIPAA")
	assert.Contains(t, got.body, `badge hipaa`)
	assert.Equal(t, orgmodel.HIPAAIdleTTL, idle(), "the visit to a HIPAA account did not shorten the session")
	assert.Contains(t, b.get("/console/accounts").body, `badge hipaa`)
}

// TestAccounts_IndependentAndPending: the list tells managed, pending and
// independent apart; an independent account offers only its grants, and
// its lifecycle is refused (R-ACCT-8).
func TestAccounts_IndependentAndPending(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	partner := e.signup("partner@partner.test")
	_, err := e.svc.LinkAccount(e.ctx, orgmodel.Actor{UserSID: partner.UserSID}, partner.AccountSID, r.OrgSID)
	require.NoError(t, err)
	home := e.signup("boss@home.test")
	e.verify(home.OrgSID, "acme.test")
	dev := e.member(home.OrgSID, "dev@acme.test", orgmodel.RoleStandard)
	devAcct, err := e.svc.CreateAccount(e.ctx, orgmodel.Actor{UserSID: dev, Via: "console"}, home.OrgSID, "Dev's", "")
	require.NoError(t, err)
	b := e.as(r.UserSID)

	// Import by SID: refused ones say why; a good one is pending and mailed.
	p := b.post("/console/accounts/import", url.Values{"sid": {string(partner.AccountSID)}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "import"), "R-ACCT-1")
	// An account whose owner is on none of this organization's verified
	// domains is answered as one that does not exist (R-ACCT-3): the
	// import tells nothing of another organization's accounts.
	p = b.post("/console/accounts/import", url.Values{"sid": {string(home.AccountSID)}})
	missing := b.post("/console/accounts/import", url.Values{"sid": {orgmodel.NewSID(orgmodel.PrefixAccount)}})
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Equal(t, missing.status, p.status)
	assert.Contains(t, text(p.body), "not found")
	got := b.follow("/console/accounts/import", url.Values{"sid": {" " + string(devAcct.SID) + " "}})
	assert.Contains(t, text(got.body), "is pending: its owner was mailed a confirmation link")
	assert.Contains(t, e.mailTo("dev@acme.test").Body, "/console/confirm-import?token=imp_")

	list := text(b.get("/console/accounts").body)
	assert.Regexp(t, `partner\.test AC[0-9a-f]{32} independent`, list)
	assert.Regexp(t, `Dev's AC[0-9a-f]{32} pending`, list)

	ind := b.get("/console/accounts/" + string(partner.AccountSID))
	require.Equal(t, http.StatusOK, ind.status)
	assert.Contains(t, text(ind.body), "R-ACCT-8 This account is independent")
	assert.NotContains(t, ind.body, "Close account")
	assert.Contains(t, ind.body, "Grant access")
	p = b.post("/console/accounts/"+string(partner.AccountSID)+"/status", url.Values{"status": {"suspended"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, text(p.body), "R-ACCT-8")
	assert.Contains(t, text(p.body), "only access grants to it can change")
}

// TestConfirmImport: the mailed link shows what is asked and answers on
// POST only; the owner's account and user move (R-ACCT-3).
func TestConfirmImport(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	home := e.signup("boss@home.test")
	e.verify(home.OrgSID, "acme.test")
	dev := e.member(home.OrgSID, "dev@acme.test", orgmodel.RoleStandard)
	devAcct, err := e.svc.CreateAccount(e.ctx, orgmodel.Actor{UserSID: dev, Via: "console"}, home.OrgSID, "Dev's", "")
	require.NoError(t, err)
	_, err = e.svc.ImportAccount(e.ctx, orgmodel.Actor{UserSID: r.UserSID, Via: "console"}, r.OrgSID, devAcct.SID)
	require.NoError(t, err)
	link := regexp.MustCompile(`/console/confirm-import\?token=imp_[0-9a-f]+`).FindString(e.mailTo("dev@acme.test").Body)
	token := strings.TrimPrefix(link, "/console/confirm-import?token=")
	anon := e.anonymous()

	page := anon.get(link)
	require.Equal(t, http.StatusOK, page.status, text(page.body))
	assert.Contains(t, text(page.body), "The organization acme.test ( "+string(r.OrgSID)+" ) asks to manage your account Dev's ( "+string(devAcct.SID)+" )")
	// Reading the page changes nothing.
	v, err := e.svc.GetAccount(e.ctx, e.op, devAcct.SID)
	require.NoError(t, err)
	assert.Equal(t, home.OrgSID, v.OrgSID)

	bad := anon.get("/console/confirm-import?token=imp_nope")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Contains(t, text(bad.body), "the confirmation link is not valid")

	p := anon.post("/console/confirm-import", url.Values{"token": {token}, "answer": {"confirm"}})
	require.Equal(t, http.StatusOK, p.status, text(p.body))
	assert.Contains(t, text(p.body), "is now managed by its new organization")
	v, err = e.svc.GetAccount(e.ctx, e.op, devAcct.SID)
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, v.OrgSID)
	u, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, dev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	// The link is spent.
	p = anon.post("/console/confirm-import", url.Values{"token": {token}, "answer": {"confirm"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
}
