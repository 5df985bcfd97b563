package storetest

import (
	"context"
	"errors"
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// writeAll writes one of everything for a fresh organization in tx.
func (e *env) writeAll(tx orgmodel.Tx, name string) (*orgmodel.Org, error) {
	ctx := e.ctx
	o, u := newOrg(name)
	if err := e.createOrg(tx, o, u); err != nil {
		return nil, err
	}
	if err := tx.CreateAccount(ctx, newAccount(o.SID, u.SID, "")); err != nil {
		return nil, err
	}
	if err := tx.CreateDomain(ctx, newDomain(o.SID, name+".example")); err != nil {
		return nil, err
	}
	if err := tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: o.SID, Actor: "operator", Via: "cli", Action: "org.create", Target: string(o.SID), At: at(0)}); err != nil {
		return nil, err
	}
	return o, tx.EnqueueMail(ctx, &orgmodel.Mail{Kind: "invitation", To: "x@" + name + ".example", Subject: "s", Body: "b", CreatedAt: at(0), NextAttemptAt: at(0)})
}

// requireNothing asserts that no trace of org is in the store.
func (e *env) requireNothing(org orgmodel.OrgSID, msg string) {
	e.t.Helper()
	s := e.snapshot(org)
	require.Nil(e.t, s.Org, msg)
	require.Equal(e.t, &orgState{}, s, msg)
	e.read(func(tx orgmodel.Tx) error {
		ms, err := tx.ListMail(e.ctx, orgmodel.MailFilter{})
		require.NoError(e.t, err)
		require.Empty(e.t, ms, msg)
		return nil
	})
}

func txRollback(e *env) {
	t, ctx := e.t, e.ctx
	boom := errors.New("boom")
	var o *orgmodel.Org
	err := e.st.InTx(ctx, func(tx orgmodel.Tx) error {
		var err error
		o, err = e.writeAll(tx, "rollback")
		require.NoError(t, err)
		return fmt.Errorf("late failure: %w", boom)
	})
	require.ErrorIs(t, err, boom, "InTx returns fn's error")
	e.requireNothing(o.SID, "an error from fn rolls back every write")

	require.PanicsWithValue(t, "boom", func() {
		_ = e.st.InTx(ctx, func(tx orgmodel.Tx) error {
			var err error
			o, err = e.writeAll(tx, "panic")
			require.NoError(t, err)
			panic("boom")
		})
	})
	e.requireNothing(o.SID, "a panic in fn rolls back every write")

	// A transaction asked to run again keeps only the last attempt's writes.
	attempts := 0
	var first, second *orgmodel.Org
	err = e.st.InTx(ctx, func(tx orgmodel.Tx) error {
		attempts++
		var err error
		if attempts == 1 {
			first, err = e.writeAll(tx, "first")
			require.NoError(t, err)
			return fmt.Errorf("lost a race: %w", orgmodel.ErrRetry)
		}
		second, err = e.writeAll(tx, "second")
		return err
	})
	s := e.snapshot(first.SID)
	require.Nil(t, s.Org, "the abandoned attempt left nothing")
	require.Empty(t, s.Audit)
	if err != nil { // a store that does not retry says so
		require.ErrorIs(t, err, orgmodel.ErrRetry)
	} else {
		require.Equal(t, 2, attempts)
		require.NotNil(t, e.snapshot(second.SID).Org, "the retried attempt committed")
	}

	// A cancelled context writes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var gone *orgmodel.Org
	err = e.st.InTx(cctx, func(tx orgmodel.Tx) error {
		var err error
		gone, err = e.writeAll(tx, "cancelled")
		return err
	})
	require.Error(t, err, "a cancelled context fails the transaction")
	if gone != nil {
		require.Nil(t, e.snapshot(gone.SID).Org)
	}

	// The store still works after all that.
	e.inTx(func(tx orgmodel.Tx) error { _, err := e.writeAll(tx, "after"); return err })
}

func readRefusesWrites(e *env) {
	t, ctx := e.t, e.ctx
	o, u := newOrg("readonly")
	err := e.st.Read(ctx, func(tx orgmodel.Tx) error { return e.createOrg(tx, o, u) })
	require.Error(t, err, "Read refuses writes")
	err = e.st.Read(ctx, func(tx orgmodel.Tx) error {
		return tx.AppendAudit(ctx, &orgmodel.AuditEvent{OrgSID: o.SID, Actor: "x", Via: "x", Action: "x", Target: "x", At: at(0)})
	})
	require.Error(t, err, "Read refuses audit events")
	err = e.st.Read(ctx, func(tx orgmodel.Tx) error {
		return tx.EnqueueMail(ctx, &orgmodel.Mail{Kind: "x", To: "x@x.example", CreatedAt: at(0), NextAttemptAt: at(0)})
	})
	require.Error(t, err, "Read refuses mail")
	e.requireNothing(o.SID, "a refused write leaves nothing")

	// Read sees what InTx committed.
	e.inTx(func(tx orgmodel.Tx) error { return e.createOrg(tx, o, u) })
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetOrg(ctx, o.SID)
		require.NoError(t, err)
		same(t, o, got, "Read after InTx")
		return nil
	})
	// Read's error is fn's error.
	boom := errors.New("boom")
	require.ErrorIs(t, e.st.Read(ctx, func(orgmodel.Tx) error { return boom }), boom)
}

// backstopForeignKeys checks the references the schema keeps: nothing
// points at a missing row, and rows still referenced are not deleted.
func backstopForeignKeys(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("fk")
	acct := newAccount(o.SID, owner.SID, "")
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		return tx.CreateAccount(ctx, acct)
	})
	write := func(fn func(tx orgmodel.Tx) error) error { return e.st.InTx(ctx, fn) }
	conflict := func(err error, what string) {
		t.Helper()
		require.ErrorIs(t, err, orgmodel.ErrConflict, what)
	}
	conflict(write(func(tx orgmodel.Tx) error { return tx.DeleteOrg(ctx, o.SID) }), "deleting an organization that still has users")
	conflict(write(func(tx orgmodel.Tx) error { return tx.DeleteUser(ctx, owner.SID) }), "deleting a user who still owns an account")
	conflict(write(func(tx orgmodel.Tx) error {
		return tx.CreateUser(ctx, newUser(orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg)), "lost@fk.example", orgmodel.RoleStandard))
	}), "a user of a missing organization")
	conflict(write(func(tx orgmodel.Tx) error {
		return tx.CreateAccount(ctx, newAccount(o.SID, "", orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount))))
	}), "a subaccount of a missing parent")
	conflict(write(func(tx orgmodel.Tx) error {
		return tx.CreateAccount(ctx, newAccount(o.SID, orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), ""))
	}), "an account of a missing owner")
	conflict(write(func(tx orgmodel.Tx) error {
		return tx.PutGrant(ctx, &orgmodel.Grant{SID: orgmodel.RoleAssignmentSID(orgmodel.NewSID(orgmodel.PrefixRoleAssignment)),
			AccountSID: acct.SID, UserSID: orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser)), OrgSID: o.SID,
			Role: orgmodel.AccountDeveloper, CreatedAt: at(0)})
	}), "a grant to a missing user")
	dup := *acct
	conflict(write(func(tx orgmodel.Tx) error { return tx.CreateAccount(ctx, &dup) }), "a duplicate primary key")

	// R-HIER-1: an account has an owner or a parent, never both or neither.
	both := newAccount(o.SID, owner.SID, acct.SID)
	require.Error(t, write(func(tx orgmodel.Tx) error { return tx.CreateAccount(ctx, both) }), "an account with an owner and a parent")
	neither := newAccount(o.SID, "", "")
	require.Error(t, write(func(tx orgmodel.Tx) error { return tx.CreateAccount(ctx, neither) }), "an account with no owner and no parent")

	// Nothing of the refused writes remains; the organization is whole.
	s := e.snapshot(o.SID)
	require.NotNil(t, s.Org)
	require.Len(t, s.Users, 1)
	require.Len(t, s.Accounts, 1)
}
