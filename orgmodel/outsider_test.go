package orgmodel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestOutsiders_AnsweredAsForMissingObjects: the refusals the isolation
// matrix (cmd/orgd) found telling an outsider that an object exists are
// now word for word those for an object that does not exist.
func TestOutsiders_AnsweredAsForMissingObjects(t *testing.T) {
	e := newEnv(t)
	victim := e.signup("owner@victim.test")
	e.verified(victim.OrgSID, "victim.test")
	target := e.member(victim.OrgSID, "target@victim.test", orgmodel.RoleStandard)
	std := e.member(victim.OrgSID, "std@victim.test", orgmodel.RoleStandard)
	outsider := as(e.signup("owner@outsider.test").UserSID)
	missingOrg := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	missingAcct := orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount))

	same := func(what string, exists, missing error, existsSID, missingSID string) {
		t.Helper()
		require.Error(t, exists, what)
		require.Error(t, missing, what)
		assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(exists), "%s: %v", what, exists)
		assert.Equal(t, orgmodel.RuleOf(missing), orgmodel.RuleOf(exists), "%s: the rule", what)
		assert.Equal(t, strings.ReplaceAll(missing.Error(), missingSID, "X"), strings.ReplaceAll(exists.Error(), existsSID, "X"), what)
	}
	// owner transfer named R-ROLE-4 only when the organization existed.
	_, e1 := e.svc.TransferOwnership(e.ctx, outsider, victim.OrgSID, string(target))
	_, e2 := e.svc.TransferOwnership(e.ctx, outsider, missingOrg, string(target))
	same("TransferOwnership", e1, e2, string(victim.OrgSID), string(missingOrg))
	// account confirm said "pending import of account" for a real one.
	_, e1 = e.svc.ConfirmImport(e.ctx, outsider, victim.AccountSID, "", true)
	_, e2 = e.svc.ConfirmImport(e.ctx, outsider, missingAcct, "", true)
	same("ConfirmImport", e1, e2, string(victim.AccountSID), string(missingAcct))
	// account unlink said "independent link of account" for a real one.
	e1 = e.svc.UnlinkAccount(e.ctx, outsider, victim.AccountSID, victim.OrgSID)
	e2 = e.svc.UnlinkAccount(e.ctx, outsider, missingAcct, victim.OrgSID)
	same("UnlinkAccount", e1, e2, string(victim.AccountSID), string(missingAcct))

	// A Standard user sees themselves, not the other users (R-ROLE-3), as
	// in the console.
	_, err := e.svc.GetUser(e.ctx, as(std), victim.OrgSID, target)
	requireRule(t, err, "R-ROLE-3")
	me, err := e.svc.GetUser(e.ctx, as(std), victim.OrgSID, std)
	require.NoError(t, err)
	assert.Equal(t, std, me.SID)
}
