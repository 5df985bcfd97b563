package orgmodel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// importable sets up what R-ACCT-3 needs: an importing organization with
// acme.test verified, and an account owned by dev@acme.test, a Standard
// user of another organization.
type importable struct {
	prime, home *orgmodel.SignUpResult
	dev         orgmodel.UserSID
	acct        orgmodel.AccountSID
}

func (e *env) importable() importable {
	e.t.Helper()
	prime := e.signup("owner@acme.test")
	e.verified(prime.OrgSID, "acme.test")
	home := e.signup("boss@home.test")
	e.verified(home.OrgSID, "acme.test")
	dev := e.member(home.OrgSID, "dev@acme.test", orgmodel.RoleStandard)
	a, err := e.svc.CreateAccount(e.ctx, as(dev), home.OrgSID, "Dev's account", "")
	require.NoError(e.t, err)
	return importable{prime, home, dev, a.SID}
}

func relations(t *testing.T, e *env, a orgmodel.Actor, org orgmodel.OrgSID) map[orgmodel.AccountSID]orgmodel.Relation {
	t.Helper()
	accts, err := e.svc.ListAccounts(e.ctx, a, org)
	require.NoError(t, err)
	out := map[orgmodel.AccountSID]orgmodel.Relation{}
	for _, v := range accts {
		out[v.SID] = v.Relation
	}
	return out
}

func TestRule_ACCT_1_ManagedIndependentPending(t *testing.T) {
	e := newEnv(t)
	im := e.importable()
	// An outside account shared with the prime as independent.
	outside := e.signup("partner@partner.test")
	_, err := e.svc.LinkAccount(e.ctx, as(outside.UserSID), outside.AccountSID, im.prime.OrgSID)
	require.NoError(t, err)
	// An import waiting for its owner.
	v, err := e.svc.ImportAccount(e.ctx, as(im.prime.UserSID), im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RelationPending, v.Relation)
	sub, err := e.svc.CreateSubaccount(e.ctx, as(im.prime.UserSID), im.prime.AccountSID, "Sub")
	require.NoError(t, err)

	rel := relations(t, e, e.op, im.prime.OrgSID)
	assert.Equal(t, map[orgmodel.AccountSID]orgmodel.Relation{
		im.prime.AccountSID: orgmodel.RelationManaged,
		sub.SID:             orgmodel.RelationSubaccount,
		outside.AccountSID:  orgmodel.RelationIndependent,
		im.acct:             orgmodel.RelationPending,
	}, rel)
	// The organization that manages it still lists it as managed.
	assert.Equal(t, orgmodel.RelationManaged, relations(t, e, e.op, im.home.OrgSID)[im.acct])
}

func TestRule_ACCT_2_AnyManagedUserCreatesAccountsItOwns(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	a, err := e.svc.CreateAccount(e.ctx, as(std), r.OrgSID, "Std's flex", "flex")
	require.NoError(t, err)
	assert.Equal(t, std, a.OwnerSID)
	assert.Equal(t, orgmodel.UsageFlex, a.Usage)
	assert.Equal(t, orgmodel.AccountTrial, a.Type)
	assert.Equal(t, orgmodel.AccountActive, a.Status)
	assert.Equal(t, orgmodel.RelationManaged, a.Relation)
	// The Standard user reaches the account it owns (and nothing else).
	assert.Equal(t, map[orgmodel.AccountSID]orgmodel.Relation{a.SID: orgmodel.RelationManaged}, relations(t, e, as(std), r.OrgSID))

	_, err = e.svc.CreateAccount(e.ctx, as(std), r.OrgSID, "x", "voice")
	require.Error(t, err)
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	_, err = e.svc.CreateAccount(e.ctx, as(std), r.OrgSID, "   ", "")
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	// A stranger cannot create accounts in the organization.
	stranger := e.signup("x@else.test")
	_, err = e.svc.CreateAccount(e.ctx, as(stranger.UserSID), r.OrgSID, "Mine", "")
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestRule_ACCT_3_ImportConditions(t *testing.T) {
	e := newEnv(t)
	im := e.importable()
	admin := as(im.prime.UserSID)

	// The owner's email must be on one of the importing organization's
	// verified domains; until it is, the account is answered exactly as
	// one that does not exist (the isolation matrix found that the
	// refusal's reasons told another organization about the account).
	nodomain := e.signup("owner@nodomain.test")
	_, err := e.svc.ImportAccount(e.ctx, as(nodomain.UserSID), nodomain.OrgSID, im.acct)
	missing := orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount))
	_, errMissing := e.svc.ImportAccount(e.ctx, as(nodomain.UserSID), nodomain.OrgSID, missing)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	require.Error(t, errMissing)
	assert.Equal(t, strings.ReplaceAll(errMissing.Error(), string(missing), "X"), strings.ReplaceAll(err.Error(), string(im.acct), "X"))
	// Nor does it learn that an account is another organization's Owner's,
	// a subaccount, or closed.
	for _, sid := range []orgmodel.AccountSID{im.home.AccountSID} {
		_, err := e.svc.ImportAccount(e.ctx, as(nodomain.UserSID), nodomain.OrgSID, sid)
		assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)
	}
	sub, err := e.svc.CreateSubaccount(e.ctx, e.op, im.home.AccountSID, "sub")
	require.NoError(t, err)
	_, err = e.svc.ImportAccount(e.ctx, as(nodomain.UserSID), nodomain.OrgSID, sub.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "%v", err)

	// The owner must own no other account there.
	second, err := e.svc.CreateAccount(e.ctx, as(im.dev), im.home.OrgSID, "Dev's second", "")
	require.NoError(t, err)
	_, err = e.svc.ImportAccount(e.ctx, admin, im.prime.OrgSID, im.acct)
	requireRule(t, err, "R-ACCT-3")
	_, err = e.svc.SetAccountStatus(e.ctx, e.op, second.SID, orgmodel.AccountClosed)
	require.NoError(t, err)
	_, err = e.svc.TransferAccount(e.ctx, e.op, second.SID, string(im.home.UserSID))
	require.NoError(t, err)

	// Now it may be imported; it is pending and the owner is mailed.
	v, err := e.svc.ImportAccount(e.ctx, admin, im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RelationPending, v.Relation)
	_, err = e.svc.ImportAccount(e.ctx, admin, im.prime.OrgSID, im.acct)
	requireRule(t, err, "R-ACCT-3")
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "dev@acme.test"})
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	assert.Equal(t, "import-confirmation", mails[0].Kind)
	assert.Contains(t, mails[0].Body, "/console/confirm-import?token=imp_")

	// Only the owner answers.
	_, err = e.svc.ConfirmImport(e.ctx, e.op, im.acct, "", true)
	requireRule(t, err, "R-ACCT-3")
	_, err = e.svc.ConfirmImport(e.ctx, as(im.home.UserSID), im.acct, "", true)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))

	// On confirmation the account is managed by the prime and its owner
	// moves there as a Standard user.
	got, err := e.svc.ConfirmImport(e.ctx, as(im.dev), im.acct, "", true)
	require.NoError(t, err)
	assert.Equal(t, im.prime.OrgSID, got.OrgSID)
	assert.Equal(t, orgmodel.RelationManaged, relations(t, e, e.op, im.prime.OrgSID)[im.acct])
	assert.NotContains(t, relations(t, e, e.op, im.home.OrgSID), im.acct)
	u, err := e.svc.GetUser(e.ctx, e.op, im.prime.OrgSID, im.dev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
	_, err = e.svc.GetUser(e.ctx, e.op, im.home.OrgSID, im.dev)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestRule_ACCT_3_RefusalOrSevenDaysChangeNothing(t *testing.T) {
	e := newEnv(t)
	im := e.importable()
	admin := as(im.prime.UserSID)
	before := relations(t, e, e.op, im.home.OrgSID)

	_, err := e.svc.ImportAccount(e.ctx, admin, im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	_, err = e.svc.ConfirmImport(e.ctx, as(im.dev), im.acct, "", false)
	require.NoError(t, err)
	assert.Equal(t, before, relations(t, e, e.op, im.home.OrgSID))
	assert.NotContains(t, relations(t, e, e.op, im.prime.OrgSID), im.acct)

	// Asked again, and left unanswered for seven days.
	_, err = e.svc.ImportAccount(e.ctx, admin, im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	e.clock.Add(orgmodel.ImportTTL + time.Minute)
	_, err = e.svc.ConfirmImport(e.ctx, as(im.dev), im.acct, "", true)
	requireRule(t, err, "R-ACCT-3")
	n, err := e.svc.ExpireImports(e.ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, before, relations(t, e, e.op, im.home.OrgSID))
	assert.NotContains(t, relations(t, e, e.op, im.prime.OrgSID), im.acct)
	u, err := e.svc.GetUser(e.ctx, e.op, im.home.OrgSID, im.dev)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, u.Role)
}

func TestRule_ACCT_3_ConfirmByMailedLink(t *testing.T) {
	e := newEnv(t)
	im := e.importable()
	_, err := e.svc.ImportAccount(e.ctx, as(im.prime.UserSID), im.prime.OrgSID, im.acct)
	require.NoError(t, err)
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{To: "dev@acme.test"})
	require.NoError(t, err)
	i := strings.Index(mails[0].Body, "token=")
	require.Positive(t, i)
	token := strings.Fields(mails[0].Body[i+len("token="):])[0]
	_, err = e.svc.ConfirmImportByToken(e.ctx, orgmodel.Actor{Via: "console"}, "imp_wrong", true)
	require.Error(t, err)
	v, err := e.svc.ConfirmImportByToken(e.ctx, orgmodel.Actor{Via: "console"}, token, true)
	require.NoError(t, err)
	assert.Equal(t, im.prime.OrgSID, v.OrgSID)
	_, err = e.svc.ConfirmImportByToken(e.ctx, orgmodel.Actor{Via: "console"}, token, true)
	require.Error(t, err, "the link works once")
}

func TestRule_ACCT_4_OrganizationsAPICannotCreateAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.CreateAccount(e.ctx, orgmodel.Actor{OrgSID: r.OrgSID, Label: "oauth:OQx", Via: "api"}, r.OrgSID, "Via API", "")
	requireRule(t, err, "R-ACCT-4")
	_, err = e.svc.CreateAccount(e.ctx, orgmodel.Actor{UserSID: r.UserSID, Via: "api"}, r.OrgSID, "Via API", "")
	requireRule(t, err, "R-ACCT-4")
	// The console may; subaccounts through the 2010-04-01 API are separate and allowed.
	_, err = e.svc.CreateAccount(e.ctx, orgmodel.Actor{UserSID: r.UserSID, Via: "console"}, r.OrgSID, "Via console", "")
	require.NoError(t, err)
	_, err = e.svc.CreateSubaccount(e.ctx, orgmodel.Actor{AccountSID: r.AccountSID, Via: "api"}, r.AccountSID, "Sub via API")
	require.NoError(t, err)
}

func TestRule_ACCT_5_OwnershipMovesOnlyBetweenManagedUsersOfTheOrganization(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	stranger := e.signup("stranger@else.test")

	_, err := e.svc.TransferAccount(e.ctx, e.op, r.AccountSID, string(stranger.UserSID))
	requireRule(t, err, "R-ACCT-5")
	_, err = e.svc.TransferAccount(e.ctx, e.op, r.AccountSID, "stranger@else.test")
	requireRule(t, err, "R-ACCT-5")
	_, err = e.svc.TransferAccount(e.ctx, e.op, r.AccountSID, "nobody@acme.test")
	requireRule(t, err, "R-ACCT-5")
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, false)
	require.NoError(t, err)
	_, err = e.svc.TransferAccount(e.ctx, e.op, r.AccountSID, "std@acme.test")
	requireRule(t, err, "R-ACCT-5")
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, std, true)
	require.NoError(t, err)

	v, err := e.svc.TransferAccount(e.ctx, as(r.UserSID), r.AccountSID, "std@acme.test")
	require.NoError(t, err)
	assert.Equal(t, std, v.OwnerSID)
	// An independent account's ownership is not the organization's to move.
	_, err = e.svc.LinkAccount(e.ctx, as(stranger.UserSID), stranger.AccountSID, r.OrgSID)
	require.NoError(t, err)
	_, err = e.svc.TransferAccount(e.ctx, as(r.UserSID), stranger.AccountSID, "std@acme.test")
	requireRule(t, err, "R-ACCT-8")
}

func TestRule_ACCT_6_TheOwnersAccountsAreAlwaysInTheOrganization(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	assert.Equal(t, orgmodel.RelationManaged, relations(t, e, e.op, r.OrgSID)[r.AccountSID])
	a, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Owner's second", "")
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RelationManaged, a.Relation)

	// An account cannot be independent for the organization that holds it.
	_, err = e.svc.LinkAccount(e.ctx, e.op, r.AccountSID, r.OrgSID)
	requireRule(t, err, "R-ACCT-6")

	// Another organization cannot import the Owner's account: merge instead.
	prime := e.signup("admin@prime.test")
	e.verified(prime.OrgSID, "acme.test")
	_, err = e.svc.ImportAccount(e.ctx, as(prime.UserSID), prime.OrgSID, r.AccountSID)
	requireRule(t, err, "R-ACCT-6")
}

func TestRule_ACCT_7_AccountsOfManagedUsersJoinAsManaged(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	for _, u := range []orgmodel.UserSID{r.UserSID, admin, std} {
		a, err := e.svc.CreateAccount(e.ctx, as(u), r.OrgSID, "By "+string(u), "")
		require.NoError(t, err)
		assert.Equal(t, r.OrgSID, a.OrgSID)
		assert.Equal(t, orgmodel.RelationManaged, relations(t, e, e.op, r.OrgSID)[a.SID])
	}
}

func TestRule_ACCT_8_IndependentAccountsOnlyTakeGrants(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	std := e.standard(r, "std@acme.test")
	outside := e.signup("partner@partner.test")
	_, err := e.svc.LinkAccount(e.ctx, as(outside.UserSID), outside.AccountSID, r.OrgSID)
	require.NoError(t, err)
	_, err = e.svc.RecordBAA(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)

	owner := as(r.UserSID)
	_, err = e.svc.SetAccountStatus(e.ctx, owner, outside.AccountSID, orgmodel.AccountSuspended)
	requireRule(t, err, "R-ACCT-8")
	_, err = e.svc.SetAccountStatus(e.ctx, owner, outside.AccountSID, orgmodel.AccountClosed)
	requireRule(t, err, "R-ACCT-8")
	_, err = e.svc.RenameAccount(e.ctx, owner, outside.AccountSID, "Ours now")
	requireRule(t, err, "R-ACCT-8")
	_, err = e.svc.SetHIPAA(e.ctx, owner, outside.AccountSID, true)
	requireRule(t, err, "R-ACCT-8")
	_, err = e.svc.CreateSubaccount(e.ctx, owner, outside.AccountSID, "Sub")
	requireRule(t, err, "R-ACCT-8")

	// Grants are the organization's to give and take.
	_, err = e.svc.GrantAccess(e.ctx, owner, outside.AccountSID, std, "support")
	require.NoError(t, err)
	v, err := e.svc.GetAccount(e.ctx, as(std), outside.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RelationIndependent, v.Relation)
	require.NoError(t, e.svc.RevokeAccess(e.ctx, owner, outside.AccountSID, std))
	_, err = e.svc.GetAccount(e.ctx, as(std), outside.AccountSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))

	// The account is unchanged.
	v, err = e.svc.GetAccount(e.ctx, as(outside.UserSID), outside.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountActive, v.Status)
	assert.False(t, v.HIPAA)
}

func TestRule_ACCT_9_StatusLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	owner := as(r.UserSID)
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	s1, err := e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "S1")
	require.NoError(t, err)
	s2, err := e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "S2")
	require.NoError(t, err)
	_, err = e.svc.SetAccountStatus(e.ctx, owner, s2.SID, orgmodel.AccountSuspended)
	require.NoError(t, err)

	status := func(sid orgmodel.AccountSID) orgmodel.AccountStatus {
		v, err := e.svc.GetAccount(e.ctx, e.op, sid)
		require.NoError(t, err)
		return v.Status
	}
	// Suspending the parent suspends its subaccounts.
	_, err = e.svc.SetAccountStatus(e.ctx, owner, r.AccountSID, orgmodel.AccountSuspended)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountSuspended, status(s1.SID))
	// No subaccount wakes under a suspended parent; none is created.
	_, err = e.svc.SetAccountStatus(e.ctx, owner, s1.SID, orgmodel.AccountActive)
	requireRule(t, err, "R-ACCT-9")
	_, err = e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "S3")
	requireRule(t, err, "R-ACCT-9")
	// Reactivating the parent brings back those suspended with it, not the others.
	_, err = e.svc.SetAccountStatus(e.ctx, owner, r.AccountSID, orgmodel.AccountActive)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountActive, status(s1.SID))
	assert.Equal(t, orgmodel.AccountSuspended, status(s2.SID))
	// Closing the parent closes them all; closed is final.
	_, err = e.svc.SetAccountStatus(e.ctx, owner, r.AccountSID, orgmodel.AccountClosed)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountClosed, status(s1.SID))
	assert.Equal(t, orgmodel.AccountClosed, status(s2.SID))
	for _, st := range []orgmodel.AccountStatus{orgmodel.AccountActive, orgmodel.AccountSuspended} {
		_, err = e.svc.SetAccountStatus(e.ctx, e.op, r.AccountSID, st)
		requireRule(t, err, "R-ACCT-9")
	}
	_, err = e.svc.SetAccountStatus(e.ctx, e.op, r.AccountSID, "deleted")
	assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	// A closed account's credentials stop working.
	_, _, err = e.svc.AuthenticateAccount(e.ctx, string(r.AccountSID), r.AuthToken, "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
}
