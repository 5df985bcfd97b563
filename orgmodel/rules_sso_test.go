package orgmodel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestRule_SSO_1_OneIdPAndOnlyVerifiedDomains(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	std := e.standard(r, "std@acme.test")
	sys := orgmodel.Actor{Via: "sso"}

	_, err := e.svc.SetIdP(e.ctx, e.op, r.OrgSID, orgmodel.IdPConfig{EntityID: "", SSOURL: "https://idp.test/sso"})
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	_, err = e.svc.SetIdP(e.ctx, e.op, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp.test", SSOURL: "javascript:alert(1)"})
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	e.idpTested(r.OrgSID)
	// One IdP: setting it again replaces it, and a changed IdP must be tested again.
	p, err := e.svc.SetIdP(e.ctx, e.op, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp2.test", SSOURL: "https://idp2.test/sso"})
	require.NoError(t, err)
	assert.Nil(t, p.TestedAt)

	u, err := e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "STD@acme.test")
	require.NoError(t, err)
	assert.Equal(t, std, u.SID)
	// Emails off the organization's verified domains are refused.
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "std@evil.test")
	requireRule(t, err, "R-SSO-1")
	_, err = e.svc.AddDomain(e.ctx, e.op, r.OrgSID, "pending.test")
	require.NoError(t, err)
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "x@pending.test")
	requireRule(t, err, "R-SSO-1")
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "not an email")
	requireRule(t, err, "R-SSO-1")
	// A user of another organization is never logged in here.
	other := e.signup("boss@other.test")
	e.verified(other.OrgSID, "acme.test")
	x := e.member(other.OrgSID, "x@acme.test", orgmodel.RoleStandard)
	_ = x
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "x@acme.test")
	requireRule(t, err, "R-USER-2")
	// Unknown people are created just in time only on Auto-enrollment domains.
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "new@acme.test")
	requireRule(t, err, "R-DOM-3")
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	u, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "new@acme.test")
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	assert.Equal(t, r.OrgSID, u.OrgSID)
	// Deactivated users are refused.
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, false)
	require.NoError(t, err)
	_, err = e.svc.SSOLogin(e.ctx, sys, r.OrgSID, "std@acme.test")
	requireRule(t, err, "R-SCIM-2")
}

func TestRule_SSO_2_EnforcementGatesEveryLoginPath(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	pwSession, _, err := e.svc.StartSession(e.ctx, as(std), std, "password")
	require.NoError(t, err)
	ssoSession, _, err := e.svc.StartSession(e.ctx, as(std), std, "sso")
	require.NoError(t, err)
	_, err = e.svc.ResetPassword(e.ctx, e.op, r.OrgSID, std)
	require.NoError(t, err)
	pendingLink := e.linkToken("std@acme.test")
	// The reset ended both sessions; start them again.
	pwSession, _, err = e.svc.StartSession(e.ctx, as(std), std, "password")
	require.NoError(t, err)
	ssoSession, _, err = e.svc.StartSession(e.ctx, as(std), std, "sso")
	require.NoError(t, err)

	e.idpTested(r.OrgSID)
	e.enforce(r.OrgSID, "acme.test")

	// Password login.
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	requireRule(t, err, "R-DOM-5")
	// Password reset, by an admin and by a link mailed before enforcement.
	_, err = e.svc.ResetPassword(e.ctx, e.op, r.OrgSID, std)
	requireRule(t, err, "R-SSO-2")
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, pendingLink, "N3w-Passw0rd-Here")
	requireRule(t, err, "R-SSO-2")
	// Session refresh: the password session is refused, the SSO one lives.
	_, _, err = e.svc.Session(e.ctx, pwSession)
	requireRule(t, err, "R-SSO-2")
	_, u, err := e.svc.Session(e.ctx, ssoSession)
	require.NoError(t, err)
	assert.Equal(t, std, u.SID)
}

func TestRule_SCIM_1_ProvisioningNeedsAVerifiedUnblockedDomain(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	tok, err := e.svc.CreateSCIMToken(e.ctx, e.op, r.OrgSID, "okta")
	require.NoError(t, err)
	agent, err := e.svc.AuthenticateSCIM(e.ctx, tok.Token, "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, agent.OrgSID)

	_, err = e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "a@acme.test", Active: true})
	requireRule(t, err, "R-SCIM-1")
	_, err = e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "a@gmail.com", Active: true})
	requireRule(t, err, "R-USER-7")
	e.verified(r.OrgSID, "acme.test")
	u, err := e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "a@acme.test", GivenName: "Ann", Active: true})
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	assert.Empty(t, u.PasswordHash)
	// A new email must satisfy the rule too.
	_, err = e.svc.UpdateUserProfile(e.ctx, agent, r.OrgSID, u.SID, orgmodel.Profile{Email: "a@elsewhere.test", Active: true}, 0)
	requireRule(t, err, "R-SCIM-1")
	_, err = e.svc.UpdateUserProfile(e.ctx, agent, r.OrgSID, u.SID, orgmodel.Profile{Email: "A@acme.test", GivenName: "Anne", Active: true}, u.Version)
	require.NoError(t, err)
	_, err = e.svc.UpdateUserProfile(e.ctx, agent, r.OrgSID, u.SID, orgmodel.Profile{Email: "a@acme.test", Active: true}, u.Version)
	assert.Equal(t, orgmodel.KindPrecondition, orgmodel.KindOf(err), "a stale version is refused")
	// Blocked domains are refused.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupBlocked)
	_, err = e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "b@acme.test", Active: true})
	requireRule(t, err, "R-DOM-3")
	// Another organization's token provisions nothing here.
	other := e.signup("x@other.test")
	tok2, err := e.svc.CreateSCIMToken(e.ctx, e.op, other.OrgSID, "")
	require.NoError(t, err)
	agent2, err := e.svc.AuthenticateSCIM(e.ctx, tok2.Token, "")
	require.NoError(t, err)
	_, err = e.svc.ProvisionUser(e.ctx, agent2, r.OrgSID, orgmodel.Profile{Email: "c@acme.test", Active: true})
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// A revoked token is refused at once.
	_, err = e.svc.RevokeSCIMToken(e.ctx, e.op, r.OrgSID, tok.Token)
	require.NoError(t, err)
	_, err = e.svc.AuthenticateSCIM(e.ctx, tok.Token, "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

func TestRule_SCIM_2_DeprovisioningEndsSessionsAtOnce(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	agent := orgmodel.Actor{OrgSID: r.OrgSID, Label: "scim:test", Via: "scim"}
	a, err := e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "a@acme.test", Active: true})
	require.NoError(t, err)
	b, err := e.svc.ProvisionUser(e.ctx, agent, r.OrgSID, orgmodel.Profile{Email: "b@acme.test", Active: true})
	require.NoError(t, err)
	ta, _, err := e.svc.StartSession(e.ctx, as(a.SID), a.SID, "sso")
	require.NoError(t, err)
	tb, _, err := e.svc.StartSession(e.ctx, as(b.SID), b.SID, "sso")
	require.NoError(t, err)

	// active=false ends every session and blocks new ones.
	_, err = e.svc.UpdateUserProfile(e.ctx, agent, r.OrgSID, a.SID, orgmodel.Profile{Email: "a@acme.test", Active: false}, 0)
	require.NoError(t, err)
	assert.True(t, e.sessionEnded(ta), "the session row is ended, not just refused")
	assert.False(t, e.sessionEnded(tb))
	_, _, err = e.svc.Session(e.ctx, ta)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	_, _, err = e.svc.StartSession(e.ctx, as(a.SID), a.SID, "sso")
	requireRule(t, err, "R-SCIM-2")
	// DELETE removes the user and its sessions.
	require.NoError(t, e.svc.DeprovisionUser(e.ctx, agent, r.OrgSID, b.SID))
	assert.True(t, e.sessionEnded(tb))
	_, _, err = e.svc.Session(e.ctx, tb)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	_, err = e.svc.GetUser(e.ctx, e.op, r.OrgSID, b.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	// Reactivation lets the user back in.
	_, err = e.svc.SetUserActive(e.ctx, agent, r.OrgSID, a.SID, true)
	require.NoError(t, err)
	_, _, err = e.svc.StartSession(e.ctx, as(a.SID), a.SID, "sso")
	require.NoError(t, err)
}
