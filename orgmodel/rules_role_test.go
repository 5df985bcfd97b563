package orgmodel_test

import (
	"go/build"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// owners returns the users of org with the Owner role.
func (e *env) owners(org orgmodel.OrgSID) []*orgmodel.User {
	e.t.Helper()
	us, err := e.svc.ListUsers(e.ctx, e.op, org, orgmodel.UserFilter{Role: orgmodel.RoleOwner})
	require.NoError(e.t, err)
	return us
}

func TestRule_ROLE_1_ExactlyOneOwnerAtAllTimes(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	a1 := e.promote(r, "a1@acme.test")
	a2 := e.promote(r, "a2@acme.test")
	require.Len(t, e.owners(r.OrgSID), 1)

	_, err := e.svc.TransferOwnership(e.ctx, as(r.UserSID), r.OrgSID, string(a1))
	require.NoError(t, err)
	_, err = e.svc.TransferOwnership(e.ctx, as(a1), r.OrgSID, "a2@acme.test")
	require.NoError(t, err)
	owners := e.owners(r.OrgSID)
	require.Len(t, owners, 1)
	assert.Equal(t, a2, owners[0].SID)
	info, err := e.svc.ShowOrg(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, a2, info.OwnerSID)

	// Any number of Administrators and Standard users.
	admins, err := e.svc.ListUsers(e.ctx, e.op, r.OrgSID, orgmodel.UserFilter{Role: orgmodel.RoleAdministrator})
	require.NoError(t, err)
	assert.Len(t, admins, 2)

	// The database refuses a second Owner even when the service is bypassed.
	err = e.db.InTx(e.ctx, func(tx orgmodel.Tx) error {
		u, err := tx.GetUser(e.ctx, a1)
		if err != nil {
			return err
		}
		u.Role = orgmodel.RoleOwner
		return tx.UpdateUser(e.ctx, u)
	})
	require.Error(t, err)
	assert.Len(t, e.owners(r.OrgSID), 1)
}

func TestRule_ROLE_2_TheCreatorIsOwner(t *testing.T) {
	e := newEnv(t)
	r := e.signup("founder@acme.test")
	assert.Equal(t, orgmodel.RoleOwner, r.Role)
	u, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, r.UserSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleOwner, u.Role)
	owners := e.owners(r.OrgSID)
	require.Len(t, owners, 1)
	assert.Equal(t, r.UserSID, owners[0].SID)
}

func TestRule_ROLE_3_WhatEachRoleMayDo(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.standard(r, "other@acme.test")

	// Standard: no organization management.
	_, err := e.svc.InviteUser(e.ctx, as(std), orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "x@acme.test"})
	requireRule(t, err, "R-ROLE-3")
	requireRule(t, e.svc.RemoveUser(e.ctx, as(std), r.OrgSID, other), "R-ROLE-3")
	_, err = e.svc.SetRole(e.ctx, as(std), r.OrgSID, other, "administrator")
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.AddDomain(e.ctx, as(std), r.OrgSID, "new.acme.test")
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.RenameOrg(e.ctx, as(std), r.OrgSID, "Mine now")
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.ListUsers(e.ctx, as(std), r.OrgSID, orgmodel.UserFilter{})
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.ImportAccount(e.ctx, as(std), r.OrgSID, r.AccountSID)
	requireRule(t, err, "R-ROLE-3")

	// Standard reaches only the accounts it owns or was given.
	accts, err := e.svc.ListAccounts(e.ctx, as(std), r.OrgSID)
	require.NoError(t, err)
	assert.Empty(t, accts)
	_, err = e.svc.GetAccount(e.ctx, as(std), r.AccountSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	_, err = e.svc.GrantAccess(e.ctx, as(admin), r.AccountSID, std, "developer")
	require.NoError(t, err)
	accts, err = e.svc.ListAccounts(e.ctx, as(std), r.OrgSID)
	require.NoError(t, err)
	require.Len(t, accts, 1)
	assert.Equal(t, r.AccountSID, accts[0].SID)
	// A developer grant does not give lifecycle control.
	_, err = e.svc.SetAccountStatus(e.ctx, as(std), r.AccountSID, orgmodel.AccountSuspended)
	requireRule(t, err, "R-ROLE-3")

	// Administrator: invite and remove users, add or create accounts, change settings.
	_, err = e.svc.InviteUser(e.ctx, as(admin), orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "new@acme.test"})
	require.NoError(t, err)
	require.NoError(t, e.svc.RemoveUser(e.ctx, as(admin), r.OrgSID, other))
	_, err = e.svc.CreateAccount(e.ctx, as(admin), r.OrgSID, "Admin's", "")
	require.NoError(t, err)
	_, err = e.svc.RenameOrg(e.ctx, as(admin), r.OrgSID, "Acme Inc")
	require.NoError(t, err)
	// …but not what is the Owner's alone.
	_, err = e.svc.TransferOwnership(e.ctx, as(admin), r.OrgSID, string(admin))
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.RecordBAA(e.ctx, as(admin), r.OrgSID)
	requireRule(t, err, "R-ROLE-3")
	_, err = e.svc.ResetPassword(e.ctx, as(admin), r.OrgSID, r.UserSID)
	requireRule(t, err, "R-ROLE-3")

	// Owner: everything.
	_, err = e.svc.RecordBAA(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)
}

func TestRule_ROLE_4_OwnerChangesHandsOnlyByTransfer(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	owner := as(r.UserSID)

	// Never assigned, never removed, deactivated or deprovisioned while Owner.
	_, err := e.svc.SetRole(e.ctx, owner, r.OrgSID, std, "owner")
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.InviteUser(e.ctx, owner, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "boss@acme.test", Role: "owner"})
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.SetRole(e.ctx, as(admin), r.OrgSID, r.UserSID, "standard")
	requireRule(t, err, "R-ROLE-4")
	requireRule(t, e.svc.RemoveUser(e.ctx, as(admin), r.OrgSID, r.UserSID), "R-ROLE-4")
	requireRule(t, e.svc.RemoveUser(e.ctx, e.op, r.OrgSID, r.UserSID), "R-ROLE-4")
	_, err = e.svc.SetUserActive(e.ctx, e.op, r.OrgSID, r.UserSID, false)
	requireRule(t, err, "R-ROLE-4")
	requireRule(t, e.svc.DeprovisionUser(e.ctx, e.op, r.OrgSID, r.UserSID), "R-ROLE-4")

	// Only to another managed user of the same organization.
	stranger := e.signup("stranger@else.test")
	_, err = e.svc.TransferOwnership(e.ctx, owner, r.OrgSID, string(stranger.UserSID))
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.TransferOwnership(e.ctx, owner, r.OrgSID, "stranger@else.test")
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.TransferOwnership(e.ctx, owner, r.OrgSID, string(r.UserSID))
	requireRule(t, err, "R-ROLE-4")
	_, err = e.svc.SetUserActive(e.ctx, owner, r.OrgSID, std, false)
	require.NoError(t, err)
	_, err = e.svc.TransferOwnership(e.ctx, owner, r.OrgSID, string(std))
	requireRule(t, err, "R-ROLE-4")

	// The transfer: the old Owner becomes an Administrator, and can then leave.
	o, err := e.svc.TransferOwnership(e.ctx, owner, r.OrgSID, "admin@acme.test")
	require.NoError(t, err)
	assert.Equal(t, admin, o.OwnerSID)
	old, err := e.svc.GetUser(e.ctx, e.op, r.OrgSID, r.UserSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, old.Role)
	require.NoError(t, e.svc.RemoveUser(e.ctx, as(admin), r.OrgSID, r.UserSID))
	// The accounts the old Owner owned stay managed, now the new Owner's.
	v, err := e.svc.GetAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, admin, v.OwnerSID)
	assert.Equal(t, r.OrgSID, v.OrgSID)
}

// TestImports keeps orgmodel free of HTTP, SQL and the adapters.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	for _, imp := range pkg.Imports {
		assert.False(t, strings.Contains(imp, "."), "orgmodel imports only the standard library, not %s", imp)
		for _, banned := range []string{"net/http", "database/sql"} {
			assert.NotEqual(t, banned, imp)
		}
	}
}
