package orgmodel_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

var linkParam = regexp.MustCompile(`[?&](?:token|invitation)=([A-Za-z0-9_]+)`)

// linkToken returns the token= value of the newest mail to addr.
func (e *env) linkToken(addr string) string {
	e.t.Helper()
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: addr, Limit: 1})
	require.NoError(e.t, err)
	require.NotEmpty(e.t, mails, "no mail to %s", addr)
	m := linkParam.FindStringSubmatch(mails[0].Body)
	require.NotNil(e.t, m, mails[0].Body)
	return m[1]
}

func TestRule_USER_1_UsersAreLoginsSeparateFromAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	for _, n := range []string{"Two", "Three"} {
		_, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, n, "")
		require.NoError(t, err)
	}
	accts, err := e.svc.ListAccounts(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)
	assert.Len(t, accts, 3, "one user owns many accounts")
	for _, a := range accts {
		assert.Equal(t, r.UserSID, a.OwnerSID)
	}
	u, err := e.svc.CheckPasswordLogin(e.ctx, "OWNER@acme.test", pw)
	require.NoError(t, err)
	assert.Equal(t, r.UserSID, u.SID)
	_, err = e.svc.CheckPasswordLogin(e.ctx, "owner@acme.test", pw+"x")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	_, err = e.svc.CheckPasswordLogin(e.ctx, "nobody@acme.test", pw)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	assert.Equal(t, "the email or password is not correct", err.Error(), "unknown emails and wrong passwords look alike")
}

func TestRule_USER_2_OneOrganizationPerUser(t *testing.T) {
	e := newEnv(t)
	a := e.signup("alice@acme.test")
	b := e.signup("boss@beta.test")
	e.verified(b.OrgSID, "acme.test")

	_, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "ALICE@acme.test", Password: pw})
	requireRule(t, err, "R-USER-2")
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: b.OrgSID, Email: "alice@acme.test"})
	requireRule(t, err, "R-USER-2")
	_, err = e.svc.ProvisionUser(e.ctx, e.op, b.OrgSID, orgmodel.Profile{Email: "alice@acme.test", Active: true})
	requireRule(t, err, "R-USER-2")

	// A second organization needs a second user: an alias works.
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: b.OrgSID, Email: "alice+beta@acme.test"})
	require.NoError(t, err)
	res, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv.Token, pw)
	require.NoError(t, err)
	assert.Equal(t, b.OrgSID, res.OrgSID)
	assert.NotEqual(t, a.UserSID, res.UserSID)

	// An invitation accepted after the person joined elsewhere is refused.
	inv2, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: b.OrgSID, Email: "carol@acme.test"})
	require.NoError(t, err)
	c := e.signup("carol-own@carol.test")
	_ = c
	_, err = e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: "carol@acme.test", Password: pw, EmailVerified: true, InvitationToken: inv2.Token})
	require.NoError(t, err)
	_, err = e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv2.Token, pw)
	require.Error(t, err)
}

func TestRule_USER_3_SignUpIsDecidedByTheDomainSetting(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	dec, err := e.svc.SignupPolicy(e.ctx, "new@acme.test")
	require.NoError(t, err)
	assert.Equal(t, "refused", dec.Outcome, "a verified domain starts Restricted")
	e.setSignup(r.OrgSID, "acme.test", orgmodel.SignupAutoEnrollment)
	dec, err = e.svc.SignupPolicy(e.ctx, "new@acme.test")
	require.NoError(t, err)
	assert.Equal(t, "auto-enrollment", dec.Outcome)
	assert.Equal(t, r.OrgSID, dec.OrgSID)
	res := e.signup("new@acme.test")
	assert.Equal(t, r.OrgSID, res.OrgSID)
	assert.Equal(t, orgmodel.RoleStandard, res.Role)
	assert.Empty(t, res.AccountSID, "joining creates no account")
	dec, err = e.svc.SignupPolicy(e.ctx, "new@unknown.test")
	require.NoError(t, err)
	assert.Equal(t, "create", dec.Outcome)
}

func TestRule_USER_4_ResetPassword(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	tok1, _, err := e.svc.StartSession(e.ctx, as(std), std, "password")
	require.NoError(t, err)
	tok2, _, err := e.svc.StartSession(e.ctx, as(std), std, "password")
	require.NoError(t, err)

	res, err := e.svc.ResetPassword(e.ctx, as(admin), r.OrgSID, std)
	require.NoError(t, err)
	assert.Equal(t, 2, res.SessionsEnded)
	assert.Equal(t, e.clock.Now().Add(24*time.Hour).Truncate(time.Millisecond), res.ExpiresAt)
	// Every session ended at once; the old password stopped working.
	for _, tok := range []string{tok1, tok2} {
		assert.True(t, e.sessionEnded(tok))
		_, _, err := e.svc.Session(e.ctx, tok)
		assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	}
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", pw)
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))

	// The mailed link sets a new password once, within 24 hours.
	token := e.linkToken("std@acme.test")
	require.True(t, strings.HasPrefix(token, "rst_"))
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, token, "short")
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, token, "N3w-Passw0rd-Here")
	require.NoError(t, err)
	_, err = e.svc.CheckPasswordLogin(e.ctx, "std@acme.test", "N3w-Passw0rd-Here")
	require.NoError(t, err)
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, token, "An0ther-Passw0rd-Here")
	requireRule(t, err, "R-USER-4")

	// A second link expires after 24 hours.
	_, err = e.svc.ResetPassword(e.ctx, as(admin), r.OrgSID, std)
	require.NoError(t, err)
	token = e.linkToken("std@acme.test")
	e.clock.Add(24*time.Hour + time.Second)
	_, err = e.svc.CompletePasswordReset(e.ctx, orgmodel.Actor{}, token, "An0ther-Passw0rd-Here")
	requireRule(t, err, "R-USER-4")

	// Standard users reset nobody.
	_, err = e.svc.ResetPassword(e.ctx, as(std), r.OrgSID, admin)
	requireRule(t, err, "R-ROLE-3")
}

func TestRule_USER_5_Reset2FAForcesEnrolment(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	require.NoError(t, e.svc.SetTOTP(e.ctx, as(std), std, "JBSWY3DPEHPK3PXP"))
	u, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, std)
	require.NoError(t, err)
	require.Equal(t, "JBSWY3DPEHPK3PXP", u.TOTPSecret)

	u, err = e.svc.Reset2FA(e.ctx, as(r.UserSID), r.OrgSID, std)
	require.NoError(t, err)
	assert.Empty(t, u.TOTPSecret)
	assert.True(t, u.MFAEnrolRequired)
	// Enrolling again clears the requirement.
	require.NoError(t, e.svc.SetTOTP(e.ctx, as(std), std, "KRSXG5CTMVRXEZLU"))
	u, err = e.svc.GetUser(e.ctx, e.op, r.OrgSID, std)
	require.NoError(t, err)
	assert.False(t, u.MFAEnrolRequired)
	// Only for managed users of one's own organization.
	other := e.signup("x@else.test")
	_, err = e.svc.Reset2FA(e.ctx, as(other.UserSID), r.OrgSID, std)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestRule_USER_6_BulkImport(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	rows, err := orgmodel.ParseImportCSV(strings.NewReader("email,role,account\n" +
		"a@acme.test,standard,\n" +
		"b@acme.test,administrator," + string(r.AccountSID) + "\n" +
		"c@gmail.com,standard,\n" +
		"not-an-email,standard,\n" +
		"d@unverified.test,standard,\n" +
		"e@acme.test,owner,\n" +
		"f@acme.test,standard,ACnot\n"))
	require.NoError(t, err)
	require.Len(t, rows, 7)
	assert.Equal(t, 2, rows[0].Line)

	_, err = e.svc.ImportUsers(e.ctx, as(r.UserSID), r.OrgSID, rows)
	requireRule(t, err, "R-USER-6")
	_, err = e.svc.EnableBulkImport(e.ctx, as(r.UserSID), r.OrgSID, true)
	requireRule(t, err, "R-USER-6")
	_, err = e.svc.EnableBulkImport(e.ctx, e.op, r.OrgSID, true)
	require.NoError(t, err)

	res, err := e.svc.ImportUsers(e.ctx, as(r.UserSID), r.OrgSID, rows)
	require.NoError(t, err)
	require.Len(t, res, 7)
	got := map[string]string{}
	for _, x := range res {
		got[x.Email] = x.Result + " " + x.Rule
	}
	assert.Equal(t, map[string]string{
		"a@acme.test":       "invited ",
		"b@acme.test":       "invited ",
		"c@gmail.com":       "refused R-USER-7",
		"not-an-email":      "refused ",
		"d@unverified.test": "refused R-USER-7",
		"e@acme.test":       "refused R-ROLE-4",
		"f@acme.test":       "refused ",
	}, got)
	// The good rows stand although bad ones followed.
	invs, err := e.svc.ListInvitations(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Len(t, invs, 2)

	for _, bad := range []string{"", "name,role\n", "email,email\n", "email,role\n\"unterminated\n"} {
		_, err := orgmodel.ParseImportCSV(strings.NewReader(bad))
		assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err), "%q", bad)
	}
}

func TestRule_USER_7_InvitationsOnlyFromVerifiedDomains(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@acme.test"})
	requireRule(t, err, "R-USER-7") // registered? not even
	d, err := e.svc.AddDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	require.NoError(t, err)
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@acme.test"})
	requireRule(t, err, "R-USER-7") // registered but unverified
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@gmail.com"})
	requireRule(t, err, "R-USER-7")
	e.dns.set(d.TXTName, d.TXTValue)
	_, err = e.svc.VerifyDomain(e.ctx, e.op, r.OrgSID, "acme.test")
	require.NoError(t, err)
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@acme.test", Role: "administrator"})
	require.NoError(t, err)
	assert.Equal(t, orgmodel.InvitationPending, inv.Status)
	assert.Equal(t, orgmodel.RoleAdministrator, inv.Role)
	// A subdomain is its own domain.
	_, err = e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "a@stage.acme.test"})
	requireRule(t, err, "R-USER-7")
	// The invitation is mailed with a single-use link.
	assert.Equal(t, inv.Token, e.linkToken("a@acme.test"))
	res, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv.Token, pw)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, res.Role)
	_, err = e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{}, inv.Token, pw)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
}
