package orgmodel

import (
	"context"
	"errors"
)

// What the Twilio-compatible API needs besides the commands it shares with
// the CLI and the console.

// GetAPIKey returns one of an account's API keys (never its secret).
func (s *Service) GetAPIKey(ctx context.Context, a Actor, acct AccountSID, sid APIKeySID) (*APIKey, error) {
	var out *APIKey
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, _, err := s.accountAccess(ctx, tx, a, acct); err != nil {
			return err
		}
		k, err := tx.GetAPIKey(ctx, sid)
		if err != nil || k.AccountSID != acct {
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			return NotFound("API key", string(sid))
		}
		out = k
		return nil
	})
	return out, err
}

// RenameAPIKey changes an API key's friendly name, like the other changes
// to an account's keys (the account's own credential, or who may manage
// the account).
func (s *Service) RenameAPIKey(ctx context.Context, a Actor, acct AccountSID, sid APIKeySID, name string) (*APIKey, error) {
	name, err := CheckName("friendly_name", name)
	if err != nil {
		return nil, err
	}
	var out *APIKey
	err = s.store.InTx(ctx, func(tx Tx) error {
		ac, acc, err := s.accountAccess(ctx, tx, a, acct)
		if err != nil {
			return err
		}
		if !acc.self {
			if err := acc.mayManage("rename API keys"); err != nil {
				return err
			}
		}
		k, err := tx.GetAPIKey(ctx, sid)
		if err != nil || k.AccountSID != acct {
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			return NotFound("API key", string(sid))
		}
		before := clone(k)
		k.FriendlyName, k.UpdatedAt = name, s.Now()
		if err := tx.UpdateAPIKey(ctx, k); err != nil {
			return err
		}
		out = k
		return s.audit(ctx, tx, a, ac.OrgSID, "api_key.rename", string(sid), before, k)
	})
	return out, err
}

// OAuthClientActor returns the agent an OAuth client acts as, for a request
// carrying an access token issued to it: the client must still exist and
// not be revoked, so that revoking a client cuts its tokens off at once.
func (s *Service) OAuthClientActor(ctx context.Context, id OAuthClientSID, remote string) (Actor, error) {
	bad := Unauthenticated("the access token is not valid")
	if !ValidSID(PrefixOAuthClient, string(id)) {
		return Actor{}, bad
	}
	var c *OAuthClient
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetOAuthClient(ctx, id)
		return err
	}); errors.Is(err, ErrNotFound) {
		return Actor{}, bad
	} else if err != nil {
		return Actor{}, err
	}
	if c.RevokedAt != nil {
		return Actor{}, bad
	}
	return Actor{OrgSID: c.OrgSID, Label: "oauth:" + string(c.SID), Via: "api", RemoteAddr: remote}, nil
}

// ListManagedAccounts pages org's managed accounts in SID order: top-level
// accounts it manages, not subaccounts, pending imports or independent
// accounts (R-ACCT-1). Any managed user may list; a Standard user sees only
// the accounts it owns or was granted (R-ROLE-3).
func (s *Service) ListManagedAccounts(ctx context.Context, a Actor, org OrgSID, after AccountSID, limit int) ([]*Account, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*Account
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		actor, err := s.authorize(ctx, tx, a, org, permMember, "list accounts")
		if err != nil {
			return err
		}
		f := AccountFilter{OrgSID: org, TopLevel: true, AfterSID: after, Limit: limit}
		if actor == nil || actor.Role != RoleStandard {
			out, err = tx.ListAccounts(ctx, f)
			return err
		}
		// A Standard user's reach is small; the organization's top-level
		// accounts are bounded by R-HIER-3.
		grants, err := tx.ListGrants(ctx, GrantFilter{UserSID: actor.SID})
		if err != nil {
			return err
		}
		granted := map[AccountSID]bool{}
		for _, g := range grants {
			granted[g.AccountSID] = true
		}
		f.Limit = 0
		all, err := tx.ListAccounts(ctx, f)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, acct := range all {
			if acct.OwnerSID == actor.SID || granted[acct.SID] {
				out = append(out, acct)
				if limit > 0 && len(out) == limit {
					break
				}
			}
		}
		return nil
	})
	return out, err
}
