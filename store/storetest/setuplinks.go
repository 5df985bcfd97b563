package storetest

import (
	"errors"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// roundTripSetupLinks: setup links (console, issue 6) keep every field,
// list newest first per organization, are found by token hash only, and
// a token hash is never stored twice.
func roundTripSetupLinks(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("setup")
	other, otherOwner := newOrg("other")
	old := &orgmodel.SetupLink{ID: "0011223344556677", OrgSID: o.SID, Name: "okta rollout", TokenHash: orgmodel.HashToken("setup_1"),
		CreatedBy: string(owner.SID), CreatedAt: at(0), ExpiresAt: at(72 * time.Hour)}
	recent := &orgmodel.SetupLink{ID: "8899aabbccddeeff", OrgSID: o.SID, Name: "azure", TokenHash: orgmodel.HashToken("setup_2"),
		CreatedBy: "operator", CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour + time.Minute),
		RevokedAt: ptr(at(2 * time.Minute)), LastUsedAt: ptr(at(90 * time.Second))}
	elsewhere := &orgmodel.SetupLink{ID: "ffeeddccbbaa9988", OrgSID: other.SID, Name: "x", TokenHash: orgmodel.HashToken("setup_3"),
		CreatedBy: string(otherOwner.SID), CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, e.createOrg(tx, other, otherOwner))
		for _, l := range []*orgmodel.SetupLink{old, recent, elsewhere} {
			require.NoError(t, tx.CreateSetupLink(ctx, l))
		}
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSetupLinkByHash(ctx, recent.TokenHash)
		require.NoError(t, err)
		same(t, recent, got, "GetSetupLinkByHash")
		_, err = tx.GetSetupLinkByHash(ctx, orgmodel.HashToken("setup_unknown"))
		requireNotFound(t, err, "GetSetupLinkByHash of an unknown token")
		ls, err := tx.ListSetupLinks(ctx, o.SID)
		require.NoError(t, err)
		require.Len(t, ls, 2, "ListSetupLinks lists the organization's links only")
		same(t, recent, ls[0], "ListSetupLinks, newest first")
		same(t, old, ls[1], "ListSetupLinks, newest first")
		return nil
	})
	old.Name, old.RevokedAt, old.LastUsedAt = "okta", ptr(at(time.Hour)), ptr(at(30*time.Minute))
	e.inTx(func(tx orgmodel.Tx) error { return tx.UpdateSetupLink(ctx, old) })
	e.read(func(tx orgmodel.Tx) error {
		got, err := tx.GetSetupLinkByHash(ctx, old.TokenHash)
		require.NoError(t, err)
		same(t, old, got, "UpdateSetupLink")
		return nil
	})
	// The token hash is unique: a second link with it is refused.
	dup := *elsewhere
	dup.ID = "1234123412341234"
	err := e.st.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateSetupLink(ctx, &dup) })
	require.Error(t, err, "a duplicate token hash is stored")
	require.False(t, errors.Is(err, orgmodel.ErrNotFound))
}
