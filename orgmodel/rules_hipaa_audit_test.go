package orgmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
)

func TestRule_HIPAA_1_NeedsARecordedBAA(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.SetHIPAA(e.ctx, as(r.UserSID), r.AccountSID, true)
	requireRule(t, err, "R-HIPAA-1")
	o, err := e.svc.RecordBAA(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)
	require.NotNil(t, o.BAAAt)
	v, err := e.svc.SetHIPAA(e.ctx, as(r.UserSID), r.AccountSID, true)
	require.NoError(t, err)
	assert.True(t, v.HIPAA)
}

func TestRule_HIPAA_2_PerAccountByOwnerOrAdministrator(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	std := e.standard(r, "std@acme.test")
	mine, err := e.svc.CreateAccount(e.ctx, as(std), r.OrgSID, "Std's", "")
	require.NoError(t, err)
	_, err = e.svc.RecordBAA(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)

	// Accounts that existed before the designation do not inherit it.
	for _, sid := range []orgmodel.AccountSID{r.AccountSID, mine.SID} {
		v, err := e.svc.GetAccount(e.ctx, e.op, sid)
		require.NoError(t, err)
		assert.False(t, v.HIPAA, sid)
	}
	// A Standard user may not set it, even on an account it owns.
	_, err = e.svc.SetHIPAA(e.ctx, as(std), mine.SID, true)
	requireRule(t, err, "R-ROLE-3")
	v, err := e.svc.SetHIPAA(e.ctx, as(admin), mine.SID, true)
	require.NoError(t, err)
	assert.True(t, v.HIPAA)
	other, err := e.svc.GetAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	assert.False(t, other.HIPAA, "the flag is per account")
	v, err = e.svc.SetHIPAA(e.ctx, as(r.UserSID), mine.SID, false)
	require.NoError(t, err)
	assert.False(t, v.HIPAA)
}

func TestRule_HIPAA_3_NewAccountsAndSubaccountsInherit(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	_, err := e.svc.UpgradeAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	plain, err := e.svc.CreateSubaccount(e.ctx, as(r.UserSID), r.AccountSID, "before")
	require.NoError(t, err)
	assert.False(t, plain.HIPAA)

	_, err = e.svc.RecordBAA(e.ctx, as(r.UserSID), r.OrgSID)
	require.NoError(t, err)
	n, err := e.svc.CreateAccount(e.ctx, as(r.UserSID), r.OrgSID, "After BAA", "")
	require.NoError(t, err)
	assert.True(t, n.HIPAA, "accounts created after the designation start flagged")

	// A new subaccount inherits its parent's flag, whatever it is.
	sub, err := e.svc.CreateSubaccount(e.ctx, as(r.UserSID), r.AccountSID, "unflagged parent")
	require.NoError(t, err)
	assert.False(t, sub.HIPAA)
	sub, err = e.svc.CreateSubaccount(e.ctx, as(r.UserSID), n.SID, "flagged parent")
	require.NoError(t, err)
	assert.True(t, sub.HIPAA)
	// An existing subaccount is not changed by its parent's new flag.
	_, err = e.svc.SetHIPAA(e.ctx, as(r.UserSID), r.AccountSID, true)
	require.NoError(t, err)
	v, err := e.svc.GetAccount(e.ctx, e.op, plain.SID)
	require.NoError(t, err)
	assert.False(t, v.HIPAA)
}

func TestRule_AUDIT_1_EveryChangeIsRecorded(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	admin := e.promote(r, "admin@acme.test")
	actor := orgmodel.Actor{UserSID: admin, Via: "console", RemoteAddr: "192.0.2.7"}
	v, err := e.svc.RenameAccount(e.ctx, actor, r.AccountSID, "Renamed")
	require.NoError(t, err)

	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Limit: 1})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, "account.rename", ev.Action)        // what
	assert.Equal(t, string(admin), ev.Actor)            // who
	assert.Equal(t, "192.0.2.7", ev.RemoteAddr)         // from where
	assert.Equal(t, "console", ev.Via)                  // through what
	assert.Equal(t, e.clock.Now().Truncate(1e6), ev.At) // when
	assert.Equal(t, string(v.SID), ev.Target)           // on what
	var before, after map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.Before), &before)) // before and after
	require.NoError(t, json.Unmarshal([]byte(ev.After), &after))
	assert.Equal(t, "My first account", before["friendly_name"])
	assert.Equal(t, "Renamed", after["friendly_name"])

	// Secrets never reach the log.
	all, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	for _, ev := range all {
		for _, s := range []string{ev.Before, ev.After} {
			assert.NotContains(t, s, "argon2id")
			assert.NotContains(t, s, "password_hash")
			assert.NotContains(t, s, "token_hash")
			assert.NotContains(t, s, r.AuthToken)
		}
	}
}

// countingStore counts audit events written by committed transactions.
type failAfterAudit struct{ orgmodel.Store }

func (f failAfterAudit) InTx(ctx context.Context, fn func(orgmodel.Tx) error) error {
	return f.Store.InTx(ctx, func(tx orgmodel.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errors.New("commit refused") // the change and its event roll back together
	})
}

func TestRule_AUDIT_1_ChangeAndEventCommitTogether(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	n := func() int {
		evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: r.OrgSID, Limit: 1000})
		require.NoError(t, err)
		return len(evs)
	}
	before := n()
	broken := orgmodel.NewService(failAfterAudit{e.db}, orgmodel.Config{Hasher: password.Fast, Now: e.clock.Now})
	_, err := broken.RenameAccount(e.ctx, e.op, r.AccountSID, "Never")
	require.Error(t, err)
	assert.Equal(t, before, n())
	v, err := e.svc.GetAccount(e.ctx, e.op, r.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, "My first account", v.FriendlyName)

	// A refused change writes nothing either.
	_, err = e.svc.RenameAccount(e.ctx, e.op, r.AccountSID, strings.Repeat("x", 300))
	require.Error(t, err)
	assert.Equal(t, before, n())
	// The log is append-only in the database itself.
	err = e.db.InTx(e.ctx, func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(e.ctx, orgmodel.AuditFilter{OrgSID: r.OrgSID, Limit: 1})
		if err != nil {
			return err
		}
		return tx.AppendAudit(e.ctx, &orgmodel.AuditEvent{SID: evs[0].SID, OrgSID: r.OrgSID, Actor: "x", Via: "x", Action: "forged", Target: "x"})
	})
	require.Error(t, err, "an event's SID cannot be reused to overwrite it")
}
