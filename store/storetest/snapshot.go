package storetest

import (
	"errors"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// orgState is everything the store holds for one organization, to compare
// before and after a command that must change nothing.
type orgState struct {
	Org          *orgmodel.Org
	Users        []*orgmodel.User
	Accounts     []*orgmodel.Account
	APIKeys      []*orgmodel.APIKey
	Grants       []*orgmodel.Grant
	Links        []*orgmodel.AccountLink
	Domains      []*orgmodel.Domain
	Invitations  []*orgmodel.Invitation
	SCIMTokens   []*orgmodel.SCIMToken
	OAuthClients []*orgmodel.OAuthClient
	IdP          *orgmodel.IdP
	Audit        []*orgmodel.AuditEvent
}

// snapshot reads org's state in one read transaction. A missing
// organization has a nil Org.
func (e *env) snapshot(org orgmodel.OrgSID) *orgState {
	e.t.Helper()
	t, ctx := e.t, e.ctx
	s := &orgState{}
	e.read(func(tx orgmodel.Tx) error {
		var err error
		s.Org, err = tx.GetOrg(ctx, org)
		if errors.Is(err, orgmodel.ErrNotFound) {
			s.Org, err = nil, nil
		}
		require.NoError(t, err)
		s.Users, err = tx.ListUsers(ctx, orgmodel.UserFilter{OrgSID: org})
		require.NoError(t, err)
		s.Accounts, err = tx.ListAccounts(ctx, orgmodel.AccountFilter{OrgSID: org})
		require.NoError(t, err)
		for _, a := range s.Accounts {
			ks, err := tx.ListAPIKeys(ctx, a.SID)
			require.NoError(t, err)
			s.APIKeys = append(s.APIKeys, ks...)
		}
		s.Grants, err = tx.ListGrants(ctx, orgmodel.GrantFilter{OrgSID: org})
		require.NoError(t, err)
		s.Links, err = tx.ListLinks(ctx, org, "")
		require.NoError(t, err)
		s.Domains, err = tx.ListDomains(ctx, org)
		require.NoError(t, err)
		s.Invitations, err = tx.ListInvitations(ctx, org, "", "")
		require.NoError(t, err)
		s.SCIMTokens, err = tx.ListSCIMTokens(ctx, org)
		require.NoError(t, err)
		s.OAuthClients, err = tx.ListOAuthClients(ctx, org)
		require.NoError(t, err)
		s.IdP, err = tx.GetIdP(ctx, org)
		if errors.Is(err, orgmodel.ErrNotFound) {
			s.IdP, err = nil, nil
		}
		require.NoError(t, err)
		s.Audit, err = tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org})
		require.NoError(t, err)
		return nil
	})
	return s
}
