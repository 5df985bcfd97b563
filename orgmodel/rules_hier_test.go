package orgmodel_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestRule_HIER_1_SubaccountsHaveOneParentAndNoChildren(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	sub, err := e.svc.CreateSubaccount(e.ctx, as(r.UserSID), r.AccountSID, "Tenant A")
	require.NoError(t, err)
	assert.Equal(t, r.AccountSID, sub.ParentSID)
	assert.Equal(t, r.OrgSID, sub.OrgSID, "a subaccount is in its parent's organization")
	assert.Empty(t, sub.OwnerSID, "subaccounts have no owner of their own")

	_, err = e.svc.CreateSubaccount(e.ctx, e.op, sub.SID, "Grandchild")
	requireRule(t, err, "R-HIER-1")
	// Not even with the subaccount's own credential.
	_, err = e.svc.CreateSubaccount(e.ctx, orgmodel.Actor{AccountSID: sub.SID, Via: "api"}, sub.SID, "Grandchild")
	requireRule(t, err, "R-HIER-1")

	// A subaccount cannot be imported on its own: it moves with its parent.
	other := e.signup("admin@beta.test")
	e.verified(other.OrgSID, "acme.test")
	_, err = e.svc.ImportAccount(e.ctx, e.op, other.OrgSID, sub.SID)
	requireRule(t, err, "R-HIER-1")
}

func TestRule_HIER_2_EveryOrganizationStartsWithItsFirstUser(t *testing.T) {
	e := newEnv(t)
	r := e.signup("first@acme.test")
	require.True(t, orgmodel.ValidSID("OR", string(r.OrgSID)))
	info, err := e.svc.ShowOrg(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, r.UserSID, info.OwnerSID)
	assert.Equal(t, 1, info.Users)
	assert.Equal(t, 1, info.Accounts)
	// The account it holds is the one sign-up created, untouched by the
	// creation of the organization: managed, active, trial.
	v, err := e.svc.GetAccount(e.ctx, as(r.UserSID), r.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RelationManaged, v.Relation)
	assert.Equal(t, orgmodel.AccountActive, v.Status)
	assert.Equal(t, orgmodel.AccountTrial, v.Type)
	// Two sign-ups, two organizations.
	r2 := e.signup("second@other.test")
	assert.NotEqual(t, r.OrgSID, r2.OrgSID)
}

func TestRule_HIER_3_ManagedAccountLimit(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	for i := 2; i <= orgmodel.DefaultAccountLimit; i++ {
		_, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, fmt.Sprintf("Account %d", i), "")
		require.NoError(t, err)
	}
	_, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Eleventh", "")
	requireRule(t, err, "R-HIER-3")

	// Closed accounts no longer count.
	_, err = e.svc.SetAccountStatus(e.ctx, as(r.UserSID), r.AccountSID, orgmodel.AccountClosed)
	require.NoError(t, err)
	_, err = e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Tenth again", "")
	require.NoError(t, err)

	// Only an operator raises the limit; not the Owner, not an Administrator.
	_, err = e.svc.SetAccountLimit(e.ctx, as(r.UserSID), r.OrgSID, 20)
	requireRule(t, err, "R-HIER-3")
	_, err = e.svc.SetAccountLimit(e.ctx, as(admin), r.OrgSID, 20)
	requireRule(t, err, "R-HIER-3")
	o, err := e.svc.SetAccountLimit(e.ctx, e.op, r.OrgSID, 11)
	require.NoError(t, err)
	assert.Equal(t, 11, o.AccountLimit)
	_, err = e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Eleventh", "")
	require.NoError(t, err)
	_, err = e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Twelfth", "")
	requireRule(t, err, "R-HIER-3")
	// Subaccounts are not managed accounts and do not count.
	_, err = e.svc.CreateSubaccount(e.ctx, as(r.UserSID), e.firstOpenAccount(r), "Sub")
	require.NoError(t, err)
}

func TestRule_HIER_3_PendingImportsCountTowardTheLimit(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	_, err := e.svc.SetAccountLimit(e.ctx, e.op, r.OrgSID, 2)
	require.NoError(t, err)
	// Someone at acme.test has an account in an organization of their own
	// that they do not own (they are a Standard user there).
	elsewhere := e.signup("boss@elsewhere.test")
	e.verified(elsewhere.OrgSID, "acme.test")
	dev := e.member(elsewhere.OrgSID, "dev@acme.test", orgmodel.RoleStandard)
	acct, err := e.svc.CreateAccount(e.ctx, as(dev), elsewhere.OrgSID, "Dev's", "")
	require.NoError(t, err)
	_, err = e.svc.ImportAccount(e.ctx, as(r.UserSID), r.OrgSID, acct.SID)
	require.NoError(t, err)
	_, err = e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Third", "")
	requireRule(t, err, "R-HIER-3")
}

func TestRule_HIER_4_SubaccountLimits(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	owner := as(r.UserSID)
	_, err := e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "One")
	require.NoError(t, err)
	_, err = e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "Two")
	requireRule(t, err, "R-HIER-4") // trial: 1

	// Only the operator upgrades or changes limits.
	_, err = e.svc.UpgradeAccount(e.ctx, owner, r.AccountSID)
	requireRule(t, err, "R-HIER-4")
	_, err = e.svc.SetSubaccountLimit(e.ctx, owner, r.AccountSID, 5)
	requireRule(t, err, "R-HIER-4")

	v, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountFull, v.Type)
	assert.Equal(t, orgmodel.FullSubaccountLimit, v.MaxSubaccounts())
	_, err = e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "Two")
	require.NoError(t, err)

	_, err = e.svc.SetSubaccountLimit(e.ctx, e.op, r.AccountSID, 2)
	require.NoError(t, err)
	_, err = e.svc.CreateSubaccount(e.ctx, owner, r.AccountSID, "Three")
	requireRule(t, err, "R-HIER-4")
}

func TestRule_HIER_5_SubaccountsAreIsolatedFromSiblingsNotFromTheirParent(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	parentCred := orgmodel.Actor{AccountSID: r.AccountSID, Via: "api"}
	a, err := e.svc.CreateSubaccount(e.ctx, parentCred, r.AccountSID, "A")
	require.NoError(t, err)
	b, err := e.svc.CreateSubaccount(e.ctx, parentCred, r.AccountSID, "B")
	require.NoError(t, err)
	aCred := orgmodel.Actor{AccountSID: a.SID, Via: "api"}

	// The parent reads and manages all of them.
	_, err = e.svc.GetAccount(e.ctx, parentCred, b.SID)
	require.NoError(t, err)
	_, err = e.svc.SetAccountStatus(e.ctx, parentCred, b.SID, orgmodel.AccountSuspended)
	require.NoError(t, err)
	subs, err := e.svc.ListSubaccounts(e.ctx, parentCred, r.AccountSID, orgmodel.AccountFilter{})
	require.NoError(t, err)
	assert.Len(t, subs, 2)

	// A subaccount sees itself only: not its sibling, not its parent.
	_, err = e.svc.GetAccount(e.ctx, aCred, a.SID)
	require.NoError(t, err)
	_, err = e.svc.GetAccount(e.ctx, aCred, b.SID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.GetAccount(e.ctx, aCred, r.AccountSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.SetAccountStatus(e.ctx, aCred, b.SID, orgmodel.AccountClosed)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.ListSubaccounts(e.ctx, aCred, r.AccountSID, orgmodel.AccountFilter{})
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))

	// Billing rolls up to the parent.
	assert.Equal(t, r.AccountSID, a.BillingAccount())
}

func TestRule_HIER_6_BillingIsNeverConsolidatedAtOrganizationLevel(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	second, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "Second", "")
	require.NoError(t, err)
	accts, err := e.svc.ListAccounts(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	require.Len(t, accts, 2)
	for _, a := range accts {
		assert.Equal(t, a.SID, a.BillingAccount(), "each managed account is billed on its own")
		assert.NotEqual(t, string(r.OrgSID), string(a.BillingAccount()))
	}
	assert.Equal(t, second.SID, second.BillingAccount())
}

func TestRule_HIER_7_NewAccountsStartWithFreshDefaults(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	owner := as(r.UserSID)
	// Give the first account every kind of state that could leak.
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	_, err = e.svc.SetSubaccountLimit(e.ctx, e.op, r.AccountSID, 7)
	require.NoError(t, err)
	_, err = e.svc.CreateAPIKey(e.ctx, owner, r.AccountSID, "ci")
	require.NoError(t, err)
	_, err = e.svc.RenameAccount(e.ctx, owner, r.AccountSID, "Production")
	require.NoError(t, err)
	_, err = e.svc.CreateAccount(e.ctx, owner, r.OrgSID, "flex one", "flex")
	require.NoError(t, err)

	n, err := e.svc.CreateAccount(e.ctx, owner, r.OrgSID, "Fresh", "")
	require.NoError(t, err)
	assert.Equal(t, orgmodel.AccountTrial, n.Type)
	assert.Equal(t, orgmodel.AccountActive, n.Status)
	assert.Equal(t, orgmodel.UsageTwilio, n.Usage)
	assert.Zero(t, n.SubaccountLimit)
	assert.Equal(t, orgmodel.TrialSubaccountLimit, n.MaxSubaccounts())
	assert.False(t, n.HIPAA)
	keys, err := e.svc.ListAPIKeys(e.ctx, owner, n.SID)
	require.NoError(t, err)
	assert.Empty(t, keys)
	subs, err := e.svc.ListSubaccounts(e.ctx, owner, n.SID, orgmodel.AccountFilter{})
	require.NoError(t, err)
	assert.Empty(t, subs)
	assert.NotEmpty(t, n.AuthToken)
	assert.NotEqual(t, r.AuthToken, n.AuthToken)
}
