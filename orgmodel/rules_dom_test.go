package orgmodel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestRule_DOM_1_VerifiedOnlyByTheDNSRecord(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	d, err := e.svc.AddDomain(e.ctx, e.op, r.OrgSID, "Acme.TEST")
	require.NoError(t, err)
	assert.Equal(t, "acme.test", d.Name)
	assert.Equal(t, orgmodel.DomainUnverified, d.Status)
	assert.Equal(t, "_orgd.acme.test", d.TXTName)
	assert.Regexp(t, `^orgd-domain-verification=[0-9a-f]{32}$`, d.TXTValue)

	// No record, a wrong record, DNS down: not verified.
	_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	requireRule(t, err, "R-DOM-1")
	e.dns.set(d.TXTName, "orgd-domain-verification=00000000000000000000000000000000", "v=spf1 -all")
	_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	requireRule(t, err, "R-DOM-1")
	e.dns.set(d.TXTName, d.TXTValue)
	e.dns.fail = true
	_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	requireRule(t, err, "R-DOM-1")
	assert.NotContains(t, err.Error(), "misbehaving", "resolver internals stay in the log")
	e.dns.fail = false
	// Settings wait for verification.
	s := orgmodel.SignupAutoEnrollment
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, r.OrgSID, "acme.test", orgmodel.DomainSettings{Signup: &s})
	requireRule(t, err, "R-DOM-1")

	v, err := e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	require.NoError(t, err)
	assert.Equal(t, orgmodel.DomainVerified, v.Status)
	assert.Equal(t, orgmodel.SignupRestricted, v.Signup)
	_, err = e.svc.AddDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	assert.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
}

func TestRule_DOM_1_RecordGoneThirtyDaysStopsVerification(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	d := e.verified(r.OrgSID, "acme.test")
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	domain := func() *orgmodel.DomainView {
		ds, err := e.svc.ListDomains(e.ctx, e.op, r.OrgSID)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		return ds[0]
	}
	// Not due yet: nothing is checked.
	n, err := e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n)

	e.dns.set(d.TXTName) // the record disappears
	e.clock.Add(orgmodel.DomainRecheck + time.Minute)
	n, err = e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, orgmodel.DomainVerified, domain().Status, "a missing record gets a grace period")
	assert.NotNil(t, domain().MissingSince)

	// DNS failing says nothing about the record.
	e.dns.fail = true
	for range 40 {
		e.clock.Add(orgmodel.DomainRecheck + time.Minute)
		_, err = e.svc.RecheckDomains(e.ctx, 10)
		require.NoError(t, err)
	}
	e.dns.fail = false
	// …but 30 days of a missing record do.
	e.clock.Add(orgmodel.DomainRecheck)
	_, err = e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	got := domain()
	assert.Equal(t, orgmodel.DomainUnverified, got.Status)
	assert.False(t, got.SSOEnforced)
	// …and it stops enforcing anything: auto-enrollment no longer applies.
	dec, err := e.svc.SignupPolicy(e.ctx, "new@acme.test")
	require.NoError(t, err)
	assert.Equal(t, "create", dec.Outcome)
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Action: "domain."})
	require.NoError(t, err)
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	assert.Contains(t, actions, "domain.record_missing")
	assert.Contains(t, actions, "domain.unverify")
}

func TestRule_DOM_1_RecordBackWithinGraceKeepsVerification(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	d := e.verified(r.OrgSID, "acme.test")
	e.dns.set(d.TXTName)
	e.clock.Add(orgmodel.DomainRecheck + time.Minute)
	_, err := e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	e.dns.set(d.TXTName, d.TXTValue)
	e.clock.Add(orgmodel.DomainRecheck + time.Minute)
	_, err = e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	e.clock.Add(40 * 24 * time.Hour)
	e.dns.set(d.TXTName)
	_, err = e.svc.RecheckDomains(e.ctx, 10)
	require.NoError(t, err)
	ds, err := e.svc.ListDomains(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.DomainVerified, ds[0].Status, "the grace period restarted when the record came back")
}

func TestRule_DOM_3_RestrictedAutoEnrollmentBlocked(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")

	// Restricted: no sign-up unless invited; the invited person joins the inviting organization.
	_, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "a@acme.test", Password: pw, EmailVerified: true})
	requireRule(t, err, "R-DOM-3")
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@acme.test"})
	require.NoError(t, err)
	res := e.signup("a@acme.test")
	assert.Equal(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, "invitation", res.Joined)

	// Auto-enrollment: joins as Standard, but only with a confirmed email.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	_, err = e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "b@acme.test", Password: pw})
	requireRule(t, err, "R-DOM-3")
	res = e.signup("b@acme.test")
	assert.Equal(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, orgmodel.RoleStandard, res.Role)
	assert.Equal(t, "auto-enrollment", res.Joined)

	// Blocked: cannot join this organization by sign-up, invitation or SCIM;
	// a sign-up creates an organization of their own.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupBlocked)
	res = e.signup("c@acme.test")
	assert.NotEqual(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, orgmodel.RoleOwner, res.Role)
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "d@acme.test"})
	requireRule(t, err, "R-DOM-3")
	_, err = e.svc.ProvisionUser(e.ctx, e.op, r.OrgSID, orgmodel.Profile{Email: "d@acme.test", Active: true})
	requireRule(t, err, "R-DOM-3")
	// An invitation sent before the domain was Blocked no longer works.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupRestricted)
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "e@acme.test"})
	require.NoError(t, err)
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupBlocked)
	_, err = e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv.Token, pw)
	requireRule(t, err, "R-DOM-3")
}

func TestRule_DOM_4_OneOrganizationMayAutoEnrollOrEnforce(t *testing.T) {
	e := newEnv(t)
	a := e.signup("owner@a.test")
	b := e.signup("owner@b.test")
	// The same domain verified under both: allowed.
	e.verified(a.OrgSID, "shared.test")
	e.verified(b.OrgSID, "shared.test")
	e.setSignup(a.OrgSID, "shared.test", orgmodel.SignupAutoEnrollment)

	s := orgmodel.SignupAutoEnrollment
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, b.OrgSID, "shared.test", orgmodel.DomainSettings{Signup: &s})
	requireRule(t, err, "R-DOM-4")
	e.idpTested(b.OrgSID)
	on := true
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, b.OrgSID, "shared.test", orgmodel.DomainSettings{SSOEnforced: &on})
	requireRule(t, err, "R-DOM-4")
	// The same one may do both.
	e.idpTested(a.OrgSID)
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, a.OrgSID, "shared.test", orgmodel.DomainSettings{SSOEnforced: &on})
	require.NoError(t, err)
	// Restricted and Blocked are not exclusive.
	e.setSignup(b.OrgSID, "shared.test", orgmodel.SignupBlocked)
	// Once a lets go, b may take it.
	e.setSignup(a.OrgSID, "shared.test", orgmodel.SignupRestricted)
	off := false
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, a.OrgSID, "shared.test", orgmodel.DomainSettings{SSOEnforced: &off})
	require.NoError(t, err)
	e.setSignup(b.OrgSID, "shared.test", orgmodel.SignupAutoEnrollment)
	dec, err := e.svc.SignupPolicy(e.ctx, "x@shared.test")
	require.NoError(t, err)
	assert.Equal(t, b.OrgSID, dec.OrgSID, "a sign-up resolves to a single organization")
}

// idpTested configures an identity provider for org and records a passing test.
func (e *env) idpTested(org orgmodel.OrgSID) {
	e.t.Helper()
	_, err := e.svc.SetIdP(e.ctx, e.op, org, orgmodel.IdPConfig{EntityID: "https://idp.test/" + string(org), SSOURL: "https://idp.test/sso"})
	require.NoError(e.t, err)
	_, err = e.svc.MarkIdPTested(e.ctx, e.op, org)
	require.NoError(e.t, err)
}

// enforce turns SSO enforcement on for a verified domain of org.
func (e *env) enforce(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	on := true
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, org, domain, orgmodel.DomainSettings{SSOEnforced: &on})
	require.NoError(e.t, err)
}

func TestRule_DOM_5_SSOEnforcementRefusesPasswordLogin(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	// Enforcement needs an IdP that passed a test login.
	on := true
	_, err := e.svc.ConfigureDomain(e.ctx, e.op, r.OrgSID, "acme.test", orgmodel.DomainSettings{SSOEnforced: &on})
	requireRule(t, err, "R-SSO-1")
	_, err = e.svc.SetIdP(e.ctx, e.op, r.OrgSID, orgmodel.IdPConfig{EntityID: "https://idp.test/x", SSOURL: "https://idp.test/sso"})
	require.NoError(t, err)
	_, err = e.svc.ConfigureDomain(e.ctx, e.op, r.OrgSID, "acme.test", orgmodel.DomainSettings{SSOEnforced: &on})
	requireRule(t, err, "R-DOM-5")
	_, err = e.svc.MarkIdPTested(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)

	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	require.NoError(t, err)
	e.enforce(r.OrgSID, "acme.test")
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	requireRule(t, err, "R-DOM-5")
	_, _, err = e.svc.StartSession(e.ctx, as(std), std, "password")
	requireRule(t, err, "R-DOM-5")
	p, err := e.svc.LoginPolicyFor(e.ctx, "std@acme.test")
	require.NoError(t, err)
	assert.True(t, p.SSO)
	assert.Equal(t, r.OrgSID, p.OrgSID)
	p, err = e.svc.LoginPolicyFor(e.ctx, "unknown@acme.test")
	require.NoError(t, err)
	assert.True(t, p.SSO, "unknown emails on the domain go to the IdP too")
	// SSO sessions are fine.
	_, _, err = e.svc.StartSession(e.ctx, as(std), std, "sso")
	require.NoError(t, err)
	// Break-glass: the Owner keeps password access.
	_, err = e.svc.CheckPasswordLogin(e.ctx, "owner@acme.test", pw)
	require.NoError(t, err)
}
