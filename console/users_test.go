package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestUsers_Invite: an invitation off a verified domain is refused next to
// the form with the rule and where to fix it (R-USER-7); once the domain is
// verified the invitation is mailed, listed and revocable.
func TestUsers_Invite(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	b := e.as(r.UserSID)

	p := b.post("/console/users/invite", url.Values{"email": {"alice@acme.test"}, "role": {"administrator"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	msg := refusal(p.body, "invite")
	assert.Contains(t, msg, "R-USER-7 acme.test is not a verified domain of this organization; verify it first")
	assert.Contains(t, msg, "What to do: Invite only people on a verified domain of the organization: add and verify their domain first — Domains → Verify.")
	assert.Contains(t, p.body, `<a href="/console/domains">Go there`)
	assert.Contains(t, p.body, `value="alice@acme.test"`)
	p = b.post("/console/users/invite", url.Values{"email": {"bob@gmail.com"}})
	assert.Contains(t, refusal(p.body, "invite"), "R-USER-7 gmail.com is a common mail domain")

	e.verify(r.OrgSID, "acme.test")
	got := b.follow("/console/users/invite", url.Values{"email": {"alice@acme.test"}, "role": {"administrator"}, "account": {string(r.AccountSID)}, "account_role": {"billing"}})
	assert.Contains(t, text(got.body), "Invitation mailed to alice@acme.test as administrator")
	assert.Contains(t, text(got.body), "Pending invitations Invitations not yet accepted Email Role Valid until Actions alice@acme.test administrator")
	m := e.mailTo("alice@acme.test")
	assert.Contains(t, m.Body, "/signup?invitation=inv_")
	assert.NotContains(t, got.body, "inv_", "the invitation token is never shown")
	invs, err := e.svc.ListInvitations(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	require.Len(t, invs, 1)
	assert.Equal(t, []orgmodel.InviteGrant{{AccountSID: r.AccountSID, Role: orgmodel.AccountBilling}}, invs[0].Grants)
	got = b.follow("/console/users/invitations/"+string(invs[0].SID)+"/revoke", nil)
	assert.Contains(t, text(got.body), "The invitation is revoked")
	p = b.post("/console/users/invitations/"+string(invs[0].SID)+"/revoke", nil)
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, text(p.body), "already revoked")
}

// TestUsers_Manage: role changes, password and 2FA resets, deactivation,
// removal, and the Owner's transfer, with the Owner protected (R-ROLE-4).
func TestUsers_Manage(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	admin := e.member(r.OrgSID, "admin@acme.test", orgmodel.RoleAdministrator)
	std := e.member(r.OrgSID, "std@acme.test", orgmodel.RoleStandard)
	owner := e.as(r.UserSID)
	ab := e.as(admin)
	stdSession := e.as(std)

	list := ab.get("/console/users")
	require.Equal(t, http.StatusOK, list.status)
	assert.Regexp(t, `owner@acme\.test\s+owner active`, text(list.body))
	assert.Regexp(t, `std@acme\.test\s+standard active`, text(list.body))

	path := "/console/users/" + string(std)
	got := ab.follow(path+"/role", url.Values{"role": {"administrator"}})
	assert.Contains(t, text(got.body), "std@acme.test is now administrator.")
	p := ab.post(path+"/role", url.Values{"role": {"owner"}})
	assert.Contains(t, refusal(p.body, "role"), "R-ROLE-4")
	ab.follow(path+"/role", url.Values{"role": {"standard"}})

	// Reset password: the user's sessions end at once (R-USER-4).
	require.Equal(t, http.StatusOK, stdSession.get("/console/").status)
	got = ab.follow(path+"/reset-password", nil)
	assert.Contains(t, text(got.body), "Password reset: 1 session ended")
	assert.Equal(t, http.StatusSeeOther, stdSession.get("/console/").status, "the reset did not end the session")
	assert.Contains(t, e.mailTo("std@acme.test").Body, "/reset?token=rst_")
	got = ab.follow(path+"/reset-2fa", nil)
	assert.Contains(t, text(got.body), "std@acme.test enrols a new second factor at the next login.")
	u, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, std)
	require.NoError(t, err)
	assert.True(t, u.MFAEnrolRequired)

	// An Administrator cannot reset the Owner's password (R-ROLE-3), nor
	// remove or deactivate the Owner (R-ROLE-4).
	opath := "/console/users/" + string(r.UserSID)
	p = ab.post(opath+"/reset-password", nil)
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, refusal(p.body, "reset-password"), "R-ROLE-3 only the Owner may reset the Owner's password")
	p = ab.post(opath+"/remove", url.Values{"confirm": {"yes"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "remove"), "R-ROLE-4")
	assert.Contains(t, refusal(p.body, "remove"), "Make Owner")
	p = ab.post(opath+"/active", url.Values{"active": {"false"}})
	assert.Contains(t, refusal(p.body, "active"), "R-ROLE-4")
	// Only the Owner transfers the role.
	p = ab.post(path+"/owner", nil)
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, text(p.body), "R-ROLE-3 only the Owner may transfer the Owner role")

	got = ab.follow(path+"/active", url.Values{"active": {"false"}})
	assert.Contains(t, text(got.body), "std@acme.test is inactive.")
	got = ab.follow(path+"/active", url.Values{"active": {"true"}})
	assert.Contains(t, text(got.body), "std@acme.test is active.")

	// The Owner hands the role over and becomes an Administrator.
	owner.follow("/console/users/"+string(admin)+"/owner", url.Values{"confirm": {"yes"}})
	o, err := e.svc.ShowOrg(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, admin, o.OwnerSID)
	got = ab.follow(path+"/remove", url.Values{"confirm": {"yes"}})
	assert.Contains(t, text(got.body), "is removed")
	assert.NotContains(t, got.body, "std@acme.test")
	assert.Equal(t, http.StatusNotFound, ab.get(path).status)
}

// TestUsers_BulkImport: refused until the operator enables it (R-USER-6);
// then each row gets its own result, with the rule and what to do for the
// refused ones, and one bad row does not undo the others.
func TestUsers_BulkImport(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	b := e.as(r.UserSID)
	csv := "email,role\nmia@acme.test,standard\nnoah@gmail.com,standard\npaul@acme.test,administrator\nbad-address,standard\n"

	p := b.upload("/console/users/import", nil, "file", "users.csv", csv)
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, refusal(p.body, "import"), "R-USER-6")
	assert.Contains(t, refusal(p.body, "import"), "orgd org enable-bulk-import")
	assert.Contains(t, text(b.get("/console/users").body), "R-USER-6 Bulk import is not enabled")

	_, err := e.svc.EnableBulkImport(e.ctx, e.op, r.OrgSID, true)
	require.NoError(t, err)
	p = b.upload("/console/users/import", nil, "file", "users.csv", csv)
	require.Equal(t, http.StatusOK, p.status, text(p.body))
	res := text(p.body)
	assert.Contains(t, res, "2 invited, 2 refused")
	assert.Contains(t, res, "2 mia@acme.test invited")
	assert.Contains(t, res, "3 noah@gmail.com refused R-USER-7 gmail.com is a common mail domain")
	assert.Contains(t, res, "4 paul@acme.test invited")
	assert.Regexp(t, `5 bad-address refused .*not`, res)
	assert.Contains(t, res, "add and verify their domain first")
	assert.Contains(t, e.mailTo("mia@acme.test").Body, "invitation=inv_")
	assert.Contains(t, e.mailTo("paul@acme.test").Body, "as administrator")

	// Pasted lines work too; a malformed file is refused whole.
	p = b.upload("/console/users/import", map[string]string{"csv": "email\nzoe@acme.test\n"}, "", "", "")
	assert.Contains(t, text(p.body), "1 invited, 0 refused")
	p = b.upload("/console/users/import", nil, "file", "x.csv", "name,phone\nx,y\n")
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "import"), "unknown column")
	p = b.upload("/console/users/import", nil, "", "", "")
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, refusal(p.body, "import"), "choose a CSV file")
	p = b.post("/console/users/import", url.Values{"csv": {"email\nx@acme.test"}})
	assert.Equal(t, http.StatusBadRequest, p.status, "a form that is not multipart is refused")
	assert.True(t, strings.Contains(refusal(p.body, "import"), "could not be read"))
}
