package orgmodel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// codes is a CodeChecker for tests: secret's current code is codes[secret].
type codes map[string]string

func (c codes) check(secret, code string) bool { return c[secret] != "" && c[secret] == code }

func TestRule_SSO_1_AuthnRequestAnsweredOnce(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	other := e.signup("owner@other.test")
	_, err := e.svc.TrackSAMLRequest(e.ctx, r.OrgSID, "id-1", "/console/", "")
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "no IdP, no request")
	e.idpTested(r.OrgSID)
	e.idpTested(other.OrgSID)
	_, err = e.svc.TrackSAMLRequest(e.ctx, r.OrgSID, "id-1", "/console/", "")
	require.NoError(t, err)

	// Another organization cannot answer it.
	_, err = e.svc.OpenSAMLRequest(e.ctx, other.OrgSID, "id-1")
	requireRule(t, err, "R-SSO-1")
	requireRule(t, e.svc.UseSAMLRequest(e.ctx, other.OrgSID, "id-1"), "R-SSO-1")
	req, err := e.svc.OpenSAMLRequest(e.ctx, r.OrgSID, "id-1")
	require.NoError(t, err)
	assert.Equal(t, "/console/", req.RelayState)
	require.NoError(t, e.svc.UseSAMLRequest(e.ctx, r.OrgSID, "id-1"))
	requireRule(t, e.svc.UseSAMLRequest(e.ctx, r.OrgSID, "id-1"), "R-SSO-1")
	_, err = e.svc.OpenSAMLRequest(e.ctx, r.OrgSID, "id-1")
	requireRule(t, err, "R-SSO-1")

	// Unknown and expired requests are refused.
	_, err = e.svc.OpenSAMLRequest(e.ctx, r.OrgSID, "id-unknown")
	requireRule(t, err, "R-SSO-1")
	_, err = e.svc.TrackSAMLRequest(e.ctx, r.OrgSID, "id-2", "", "")
	require.NoError(t, err)
	e.clock.Add(orgmodel.SAMLRequestTTL)
	_, err = e.svc.OpenSAMLRequest(e.ctx, r.OrgSID, "id-2")
	requireRule(t, err, "R-SSO-1")
	requireRule(t, e.svc.UseSAMLRequest(e.ctx, r.OrgSID, "id-2"), "R-SSO-1")

	// A test connection is started by an administrator of the organization only.
	std := e.standard(r, "std@acme.test")
	_, err = e.svc.TrackSAMLRequest(e.ctx, r.OrgSID, "id-3", "", std)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.TrackSAMLRequest(e.ctx, r.OrgSID, "id-3", "", r.UserSID)
	require.NoError(t, err)

	// Purging drops what expired.
	n, err := e.svc.PurgeLoginState(e.ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 2)
}

func TestRule_SSO_1_AssertionUsedOnce(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	other := e.signup("owner@other.test")
	until := e.clock.Now().Add(5 * time.Minute)
	require.NoError(t, e.svc.ConsumeAssertion(e.ctx, r.OrgSID, "_a1", until))
	requireRule(t, e.svc.ConsumeAssertion(e.ctx, r.OrgSID, "_a1", until), "R-SSO-1")
	// Per organization: the same ID at another organization is another key.
	require.NoError(t, e.svc.ConsumeAssertion(e.ctx, other.OrgSID, "_a1", until))
	requireRule(t, e.svc.ConsumeAssertion(e.ctx, r.OrgSID, "", until), "R-SSO-1")
	// Still refused until the record expires, and purging keeps live records.
	e.clock.Add(4 * time.Minute)
	_, err := e.svc.PurgeLoginState(e.ctx)
	require.NoError(t, err)
	requireRule(t, e.svc.ConsumeAssertion(e.ctx, r.OrgSID, "_a1", until), "R-SSO-1")
}

func TestLockout_PasswordFailuresLockForAWhileOnly(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	a := orgmodel.Actor{Via: "sso"}

	for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
		_, err := e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", "wrong-password", "")
		assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	}
	// Locked: even the right password is not checked.
	_, err := e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
	// Attempts while locked do not extend the lock.
	for i := 0; i < 20; i++ {
		_, err = e.svc.BeginPasswordLogin(e.ctx, a, "STD@acme.test", "wrong-password", "")
		assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
	}
	e.clock.Add(orgmodel.LoginLockBase)
	step, err := e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	assert.Equal(t, std, step.User.SID)
	assert.Empty(t, step.Need)
	_, u, err := e.svc.Session(e.ctx, step.Token)
	require.NoError(t, err)
	assert.Equal(t, std, u.SID)

	// A success clears the count; the lock doubles with each failure past
	// the threshold but never exceeds LoginLockMax after the last failure.
	for i := 0; i < orgmodel.LoginFailureThreshold+30; i++ {
		_, _ = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", "wrong-password", "")
		e.clock.Add(orgmodel.LoginLockMax) // always past the lock, so each failure counts
	}
	e.clock.Add(-orgmodel.LoginLockMax)
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err), "locked right after the last failure")
	e.clock.Add(orgmodel.LoginLockMax)
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err, "never locked longer than LoginLockMax")

	// A browser the user logged in from has its own count: an attacker
	// locking the shared count does not lock it out.
	dev, err := e.svc.TrustDevice(e.ctx, std)
	require.NoError(t, err)
	for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
		_, _ = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", "wrong-password", "")
	}
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, dev)
	require.NoError(t, err)
	// Another user's device token is no device of this user.
	devOwner, err := e.svc.TrustDevice(e.ctx, r.UserSID)
	require.NoError(t, err)
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, devOwner)
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
	// Unknown emails are throttled alike, so the answer does not tell.
	for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
		_, err = e.svc.BeginPasswordLogin(e.ctx, a, "nobody@acme.test", "wrong-password", "")
		assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	}
	_, err = e.svc.BeginPasswordLogin(e.ctx, a, "nobody@acme.test", "wrong-password", "")
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
}

func TestRule_DOM_5_PasswordLoginRefusedUnderEnforcementButOwnerBreakGlass(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.standard(r, "std@acme.test")
	e.idpTested(r.OrgSID)
	e.enforce(r.OrgSID, "acme.test")
	a := orgmodel.Actor{Via: "sso"}
	_, err := e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	requireRule(t, err, "R-DOM-5")
	// The Owner keeps password access, but only with a second factor,
	// enrolled at the next login when missing.
	step, err := e.svc.BeginPasswordLogin(e.ctx, a, "owner@acme.test", pw, "")
	require.NoError(t, err)
	assert.Equal(t, "enrol", step.Need)
	_, _, err = e.svc.Session(e.ctx, step.Token)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "a pending login is no session")
	c := codes{"SECRET1": "123456"}
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "123456", "", c.check)
	requireRule(t, err, "R-USER-5")
	tok, _, err := e.svc.FinishLogin(e.ctx, a, step.Token, "", "123456", "SECRET1", c.check)
	require.NoError(t, err)
	_, u, err := e.svc.Session(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleOwner, u.Role)
	assert.Equal(t, "SECRET1", u.TOTPSecret)
}

func TestRule_USER_5_SecondFactorEnrolmentAndVerification(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	a := orgmodel.Actor{Via: "sso"}
	c := codes{"S1": "111111", "S2": "222222"}

	// No second factor, none required: straight in.
	step, err := e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	assert.Empty(t, step.Need)

	// The organization requires one: enrol at the next login.
	_, err = e.svc.SetRequireMFA(e.ctx, as(std), r.OrgSID, true)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.SetRequireMFA(e.ctx, as(r.UserSID), r.OrgSID, true)
	require.NoError(t, err)
	step, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	require.Equal(t, "enrol", step.Need)
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "999999", "S1", c.check)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "a wrong code does not enrol")
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "111111", "S1", c.check)
	require.NoError(t, err)
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "111111", "S1", c.check)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "a pending login finishes once")

	// Enrolled: verify. A code works once.
	step, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	require.Equal(t, "verify", step.Need)
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "111111", "", c.check)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "the enrolment code was used already")
	c["S1"] = "333333"
	tok, _, err := e.svc.FinishLogin(e.ctx, a, step.Token, "", "333333", "S2", c.check)
	require.NoError(t, err, "an enrolled user cannot swap the factor by sending a secret")
	_, u, err := e.svc.Session(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "S1", u.TOTPSecret)

	// Reset 2FA (R-USER-5): the factor goes; the next login must enrol a new one.
	_, err = e.svc.Reset2FA(e.ctx, as(r.UserSID), r.OrgSID, std)
	require.NoError(t, err)
	_, err = e.svc.SetRequireMFA(e.ctx, as(r.UserSID), r.OrgSID, false)
	require.NoError(t, err)
	step, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	require.Equal(t, "enrol", step.Need)
	c["S2"] = "444444"
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "444444", "S2", c.check)
	require.NoError(t, err)

	// Wrong codes lock the second factor for a while.
	step, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
		_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "000000", "", c.check)
		assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	}
	c["S2"] = "555555"
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "555555", "", c.check)
	assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err))
	e.clock.Add(orgmodel.LoginLockBase)
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "555555", "", c.check)
	require.NoError(t, err)

	// A pending login expires.
	c["S2"] = "666666"
	step, err = e.svc.BeginPasswordLogin(e.ctx, a, "std@acme.test", pw, "")
	require.NoError(t, err)
	e.clock.Add(orgmodel.PendingLoginTTL)
	_, _, err = e.svc.FinishLogin(e.ctx, a, step.Token, "", "666666", "", c.check)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

func TestRule_SCIM_2_PendingLoginOfDeactivatedUserGoesNowhere(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	_, err := e.svc.SetRequireMFA(e.ctx, e.op, r.OrgSID, true)
	require.NoError(t, err)
	step, err := e.svc.BeginPasswordLogin(e.ctx, orgmodel.Actor{}, "std@acme.test", pw, "")
	require.NoError(t, err)
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, false)
	require.NoError(t, err)
	_, _, err = e.svc.FinishLogin(e.ctx, orgmodel.Actor{}, step.Token, "", "111111", "S1", codes{"S1": "111111"}.check)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}

func TestHIPAA_IdleLogOffAfterReachingAFlaggedAccount(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	plain := e.firstOpenAccount(r)
	_, err := e.svc.RecordBAA(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	flagged, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "PHI", "")
	require.NoError(t, err)
	require.True(t, flagged.HIPAA)

	tok, sess, err := e.svc.StartSession(e.ctx, as(r.UserSID), r.UserSID, orgmodel.ViaPassword)
	require.NoError(t, err)
	require.NoError(t, e.svc.NoteAccountVisit(e.ctx, sess, plain))
	e.clock.Add(20 * time.Minute)
	sess, _, err = e.svc.Session(e.ctx, tok)
	require.NoError(t, err, "a plain account keeps the normal idle timeout")

	require.NoError(t, e.svc.NoteAccountVisit(e.ctx, sess, flagged.SID))
	e.clock.Add(14 * time.Minute)
	_, _, err = e.svc.Session(e.ctx, tok)
	require.NoError(t, err, "activity within 15 minutes keeps it")
	e.clock.Add(orgmodel.HIPAAIdleTTL)
	_, _, err = e.svc.Session(e.ctx, tok)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err), "15 minutes idle after a HIPAA account logs off")
}

func TestRule_USER_4_SelfServiceResetNeedsTheLink(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	tok, _, err := e.svc.StartSession(e.ctx, as(std), std, orgmodel.ViaPassword)
	require.NoError(t, err)
	require.NoError(t, e.svc.RequestPasswordReset(e.ctx, orgmodel.Actor{}, "std@acme.test"))
	link := e.linkToken("std@acme.test")
	// Asking changes nothing yet: the password works, sessions live.
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	require.NoError(t, err)
	assert.False(t, e.sessionEnded(tok))
	// At most one mail every five minutes; unknown emails answer the same.
	require.NoError(t, e.svc.RequestPasswordReset(e.ctx, orgmodel.Actor{}, "std@acme.test"))
	assert.Equal(t, link, e.linkToken("std@acme.test"))
	require.NoError(t, e.svc.RequestPasswordReset(e.ctx, orgmodel.Actor{}, "nobody@acme.test"))
	// Using the link sets the password and ends the sessions, once.
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, link, "N3w-Passw0rd-Here")
	require.NoError(t, err)
	assert.True(t, e.sessionEnded(tok))
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, link, "An0ther-Passw0rd-Here")
	requireRule(t, err, "R-USER-4")
}

func TestRule_SSO_2_SelfServiceResetRefusedUnderEnforcement(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.standard(r, "std@acme.test")
	e.idpTested(r.OrgSID)
	e.enforce(r.OrgSID, "acme.test")
	before, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "std@acme.test"})
	require.NoError(t, err)
	require.NoError(t, e.svc.RequestPasswordReset(e.ctx, orgmodel.Actor{}, "std@acme.test"))
	after, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "std@acme.test"})
	require.NoError(t, err)
	assert.Len(t, after, len(before), "no reset link for a user who must use SSO")
}

func TestRule_DOM_3_WebSignupConfirmsTheEmailFirst(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	a := orgmodel.Actor{Via: "sso"}

	// Restricted (the default): refused at once without an invitation.
	requireRule(t, e.svc.StartSignup(e.ctx, a, "new@acme.test", ""), "R-DOM-3")

	// Auto-enrollment: a confirmed email joins as Standard.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	require.NoError(t, e.svc.StartSignup(e.ctx, a, "new@acme.test", ""))
	tok := e.linkToken("new@acme.test")
	email, err := e.svc.SignupConfirmationEmail(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "new@acme.test", email)
	res, err := e.svc.ConfirmSignup(e.ctx, a, tok, pw)
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, orgmodel.RoleStandard, res.Role)
	_, err = e.svc.ConfirmSignup(e.ctx, a, tok, pw)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err), "a link works once")

	// An email that has a user gets a mail saying so, and the same answer.
	require.NoError(t, e.svc.StartSignup(e.ctx, a, "new@acme.test", ""))
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "new@acme.test", Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, "signup-existing", mails[0].Kind)

	// Elsewhere: a new organization (R-HIER-2), after confirmation.
	require.NoError(t, e.svc.StartSignup(e.ctx, a, "solo@elsewhere.test", "Solo Inc"))
	tok = e.linkToken("solo@elsewhere.test")
	res, err = e.svc.ConfirmSignup(e.ctx, a, tok, pw)
	require.NoError(t, err)
	assert.Equal(t, "created", res.Joined)
	assert.Equal(t, orgmodel.RoleOwner, res.Role)

	// Blocked: a sign-up creates an organization of the person's own.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupBlocked)
	require.NoError(t, e.svc.StartSignup(e.ctx, a, "blocked@acme.test", ""))
	res, err = e.svc.ConfirmSignup(e.ctx, a, e.linkToken("blocked@acme.test"), pw)
	require.NoError(t, err)
	assert.NotEqual(t, r.OrgSID, res.OrgSID)

	// Links expire.
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	require.NoError(t, e.svc.StartSignup(e.ctx, a, "late@acme.test", ""))
	tok = e.linkToken("late@acme.test")
	e.clock.Add(orgmodel.SignupConfirmTTL)
	_, err = e.svc.ConfirmSignup(e.ctx, a, tok, pw)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}

func TestRule_USER_3_WebSignupWithInvitationOnRestrictedDomain(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	_, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "inv@acme.test"})
	require.NoError(t, err)
	// The invited person may sign up from the form: the invitation decides.
	require.NoError(t, e.svc.StartSignup(e.ctx, orgmodel.Actor{}, "inv@acme.test", ""))
	res, err := e.svc.ConfirmSignup(e.ctx, orgmodel.Actor{}, e.linkToken("inv@acme.test"), pw)
	require.NoError(t, err)
	assert.Equal(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, "invitation", res.Joined)
}

func TestRule_SSO_1_AssertionSpentWithItsSession(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	until := e.clock.Now().Add(5 * time.Minute)
	a := orgmodel.Actor{Via: "sso"}
	tok, sess, err := e.svc.StartSSOSession(e.ctx, a, r.OrgSID, std, "_a1", until)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.ViaSSO, sess.Via)
	_, u, err := e.svc.Session(e.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, std, u.SID)
	_, _, err = e.svc.StartSSOSession(e.ctx, a, r.OrgSID, std, "_a1", until)
	requireRule(t, err, "R-SSO-1")
	// A refused session does not spend the assertion.
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, false)
	require.NoError(t, err)
	_, _, err = e.svc.StartSSOSession(e.ctx, a, r.OrgSID, std, "_a2", until)
	requireRule(t, err, "R-SCIM-2")
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, true)
	require.NoError(t, err)
	_, _, err = e.svc.StartSSOSession(e.ctx, a, r.OrgSID, std, "_a2", until)
	require.NoError(t, err)
}

// TestLockout_PerAccountAndAddress: failures count per account and client
// address (an IPv6 client by its /64), so an attacker's failures lock only
// the attacker's address out; a locked attempt says how long to wait.
func TestLockout_PerAccountAndAddress(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.standard(r, "std@acme.test")
	from := func(addr string) orgmodel.Actor { return orgmodel.Actor{Via: "sso", RemoteAddr: addr} }
	attackers := []string{"198.51.100.7", "2001:db8:1:2::1"}
	for _, addr := range attackers {
		for i := 0; i < orgmodel.LoginFailureThreshold; i++ {
			_, err := e.svc.BeginPasswordLogin(e.ctx, from(addr), "std@acme.test", "wrong-password", "")
			assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
		}
	}
	for _, addr := range append(attackers, "2001:db8:1:2::99") { // the same /64
		_, err := e.svc.BeginPasswordLogin(e.ctx, from(addr), "std@acme.test", pw, "")
		assert.Equal(t, orgmodel.KindTooMany, orgmodel.KindOf(err), addr)
		var th *orgmodel.Throttled
		require.ErrorAs(t, err, &th, addr)
		assert.Equal(t, orgmodel.LoginLockBase, th.RetryAfter, addr)
	}
	for _, addr := range []string{"198.51.100.8", "2001:db8:1:3::1", ""} {
		_, err := e.svc.BeginPasswordLogin(e.ctx, from(addr), "std@acme.test", pw, "")
		require.NoError(t, err, "the user logs in from %q", addr)
	}
}
