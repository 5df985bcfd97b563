package orgmodel

import (
	"context"
	"errors"
	"strings"
	"time"
)

// SCIMTokenResult is a new SCIM token; Token is shown once and stored hashed.
type SCIMTokenResult struct {
	SCIMToken
	Token string `json:"token"`
}

// CreateSCIMToken issues a bearer token for org's SCIM client (R-SCIM-1);
// Owner or Administrator. name is a label; "" means "scim".
func (s *Service) CreateSCIMToken(ctx context.Context, a Actor, org OrgSID, name string) (*SCIMTokenResult, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if name == "" {
		name = "scim"
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	var out *SCIMTokenResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorizeSetup(ctx, tx, a, org, permAdmin, "manage SCIM tokens"); err != nil {
			return err
		}
		token := newToken("scim_")
		t := &SCIMToken{ID: randomHex(8), OrgSID: org, Name: name, TokenHash: HashToken(token), CreatedAt: s.Now()}
		if err := tx.CreateSCIMToken(ctx, t); err != nil {
			return err
		}
		out = &SCIMTokenResult{*t, token}
		return s.audit(ctx, tx, a, org, "scim_token.create", t.ID, nil, t)
	})
	return out, err
}

// RevokeSCIMToken revokes one of org's SCIM tokens, named by its id or by
// the token itself; it is refused at once everywhere afterwards, since every
// request reads the token's row.
func (s *Service) RevokeSCIMToken(ctx context.Context, a Actor, org OrgSID, ref string) (*SCIMToken, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, Invalid("token", "token is required (the token or its id)")
	}
	var out *SCIMToken
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorizeSetup(ctx, tx, a, org, permAdmin, "manage SCIM tokens"); err != nil {
			return err
		}
		var t *SCIMToken
		if strings.HasPrefix(ref, "scim_") {
			var err error
			if t, err = tx.GetSCIMTokenByHash(ctx, HashToken(ref)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		} else {
			ts, err := tx.ListSCIMTokens(ctx, org)
			if err != nil {
				return err
			}
			for _, c := range ts {
				if c.ID == ref {
					t = c
				}
			}
		}
		if t == nil || t.OrgSID != org {
			return NotFound("SCIM token", "")
		}
		if t.RevokedAt == nil {
			t.RevokedAt = ptr(s.Now())
			if err := tx.UpdateSCIMToken(ctx, t); err != nil {
				return err
			}
		}
		out = t
		return s.audit(ctx, tx, a, org, "scim_token.revoke", t.ID, nil, t)
	})
	return out, err
}

// ListSCIMTokens lists org's SCIM tokens (never their values).
func (s *Service) ListSCIMTokens(ctx context.Context, a Actor, org OrgSID) ([]*SCIMToken, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out []*SCIMToken
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorizeSetup(ctx, tx, a, org, permAdmin, "manage SCIM tokens"); err != nil {
			return err
		}
		var err error
		out, err = tx.ListSCIMTokens(ctx, org)
		return err
	})
	return out, err
}

// lastUsedGranularity bounds how often a token's last-used time is written.
const lastUsedGranularity = time.Minute

// AuthenticateSCIM returns the agent a SCIM bearer token acts as: its
// organization's administrator (R-SCIM-1). Unknown and revoked tokens are
// refused alike.
func (s *Service) AuthenticateSCIM(ctx context.Context, token, remote string) (Actor, error) {
	bad := Unauthenticated("the bearer token is not valid")
	if !strings.HasPrefix(token, "scim_") || len(token) > 200 {
		return Actor{}, bad
	}
	// One indexed row read on every request needs no goroutines watching
	// a cancellable context (a sixth of that read's CPU under load).
	t, err := s.store.SCIMTokenByHash(context.WithoutCancel(ctx), HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Actor{}, bad
	} else if err != nil {
		return Actor{}, err
	}
	if t.RevokedAt != nil || !TokenMatches(t.TokenHash, token) {
		return Actor{}, bad
	}
	now := s.Now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedGranularity {
		_ = s.store.InTx(ctx, func(tx Tx) error {
			t.LastUsedAt = &now
			return tx.UpdateSCIMToken(ctx, t)
		})
	}
	return Actor{OrgSID: t.OrgSID, Label: "scim:" + t.ID, Via: "scim", RemoteAddr: remote}, nil
}

// OAuthClientResult is a new OAuth client; the secret is shown once.
type OAuthClientResult struct {
	ClientID     OAuthClientSID `json:"client_id"`
	ClientSecret string         `json:"client_secret"`
	OrgSID       OrgSID         `json:"organization_sid"`
	Name         string         `json:"name"`
}

// CreateOAuthClient issues client credentials for org's Organizations API
// clients; Owner or Administrator.
func (s *Service) CreateOAuthClient(ctx context.Context, a Actor, org OrgSID, name string) (*OAuthClientResult, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if name == "" {
		name = "api"
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	var out *OAuthClientResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "manage OAuth clients"); err != nil {
			return err
		}
		secret := randomHex(32)
		c := &OAuthClient{SID: OAuthClientSID(NewSID(PrefixOAuthClient)), OrgSID: org, Name: name,
			SecretHash: HashToken(secret), CreatedAt: s.Now()}
		if err := tx.CreateOAuthClient(ctx, c); err != nil {
			return err
		}
		out = &OAuthClientResult{ClientID: c.SID, ClientSecret: secret, OrgSID: org, Name: name}
		return s.audit(ctx, tx, a, org, "oauth_client.create", string(c.SID), nil, c)
	})
	return out, err
}

// RevokeOAuthClient revokes an OAuth client of org.
func (s *Service) RevokeOAuthClient(ctx context.Context, a Actor, org OrgSID, sid OAuthClientSID) error {
	if err := org.check("org"); err != nil {
		return err
	}
	if err := CheckSID("client_id", PrefixOAuthClient, string(sid)); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "manage OAuth clients"); err != nil {
			return err
		}
		c, err := tx.GetOAuthClient(ctx, sid)
		if err != nil || c.OrgSID != org {
			return NotFound("OAuth client", string(sid))
		}
		if c.RevokedAt == nil {
			c.RevokedAt = ptr(s.Now())
			if err := tx.UpdateOAuthClient(ctx, c); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, org, "oauth_client.revoke", string(sid), nil, c)
	})
}

// AuthenticateOAuthClient checks client credentials and returns the agent
// they act as.
func (s *Service) AuthenticateOAuthClient(ctx context.Context, id, secret, remote string) (Actor, error) {
	bad := Unauthenticated("invalid client credentials")
	if !ValidSID(PrefixOAuthClient, id) || secret == "" || len(secret) > 200 {
		return Actor{}, bad
	}
	var c *OAuthClient
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetOAuthClient(ctx, OAuthClientSID(id))
		return err
	}); errors.Is(err, ErrNotFound) {
		return Actor{}, bad
	} else if err != nil {
		return Actor{}, err
	}
	if c.RevokedAt != nil || !TokenMatches(c.SecretHash, secret) {
		return Actor{}, bad
	}
	return Actor{OrgSID: c.OrgSID, Label: "oauth:" + string(c.SID), Via: "api", RemoteAddr: remote}, nil
}

// APIKeyResult is a new API key; Secret is shown once.
type APIKeyResult struct {
	APIKey
	Secret string `json:"secret"`
}

// CreateAPIKey creates an API key for an account the actor may manage (or
// the account's own credential).
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, acct AccountSID, name string) (*APIKeyResult, error) {
	if name == "" {
		name = "API key"
	}
	name, err := CheckName("friendly_name", name)
	if err != nil {
		return nil, err
	}
	var out *APIKeyResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		ac, acc, err := s.accountAccess(ctx, tx, a, acct)
		if err != nil {
			return err
		}
		if !acc.self {
			if err := acc.mayManage("create API keys"); err != nil {
				return err
			}
		}
		if ac.Status == AccountClosed {
			return Breaks("R-ACCT-9", KindConflict, "account %s is closed", acct)
		}
		secret := randomHex(16)
		now := s.Now()
		k := &APIKey{SID: APIKeySID(NewSID(PrefixAPIKey)), AccountSID: acct, FriendlyName: name,
			SecretHash: HashToken(secret), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		out = &APIKeyResult{*k, secret}
		return s.audit(ctx, tx, a, ac.OrgSID, "api_key.create", string(k.SID), nil, k)
	})
	return out, err
}

// ListAPIKeys lists an account's API keys (never their secrets).
func (s *Service) ListAPIKeys(ctx context.Context, a Actor, acct AccountSID) ([]*APIKey, error) {
	var out []*APIKey
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, _, err := s.accountAccess(ctx, tx, a, acct); err != nil {
			return err
		}
		var err error
		out, err = tx.ListAPIKeys(ctx, acct)
		return err
	})
	return out, err
}

// DeleteAPIKey deletes one of an account's API keys.
func (s *Service) DeleteAPIKey(ctx context.Context, a Actor, acct AccountSID, sid APIKeySID) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		ac, acc, err := s.accountAccess(ctx, tx, a, acct)
		if err != nil {
			return err
		}
		if !acc.self {
			if err := acc.mayManage("delete API keys"); err != nil {
				return err
			}
		}
		k, err := tx.GetAPIKey(ctx, sid)
		if err != nil || k.AccountSID != acct {
			return NotFound("API key", string(sid))
		}
		if err := tx.DeleteAPIKey(ctx, sid); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ac.OrgSID, "api_key.delete", string(sid), k, nil)
	})
}

// AuthenticateAccount checks HTTP Basic credentials of the 2010-04-01 API:
// an account SID with its auth token, or an API key SID with its secret.
// It returns the account credential actor and the account. Closed accounts
// are refused like wrong credentials.
func (s *Service) AuthenticateAccount(ctx context.Context, user, secret, remote string) (Actor, *Account, error) {
	bad := Unauthenticated("authentication failed")
	if secret == "" || len(secret) > 200 {
		return Actor{}, nil, bad
	}
	var acct *Account
	var label string
	err := s.store.Read(ctx, func(tx Tx) error {
		switch {
		case ValidSID(PrefixAccount, user):
			a, err := tx.GetAccount(ctx, AccountSID(user))
			if err != nil {
				return err
			}
			if !TokenMatches(a.AuthTokenHash, secret) {
				return ErrNotFound
			}
			acct = a
		case ValidSID(PrefixAPIKey, user):
			k, err := tx.GetAPIKey(ctx, APIKeySID(user))
			if err != nil {
				return err
			}
			if !TokenMatches(k.SecretHash, secret) {
				return ErrNotFound
			}
			a, err := tx.GetAccount(ctx, k.AccountSID)
			if err != nil {
				return err
			}
			acct, label = a, "key:"+string(k.SID)
		default:
			return ErrNotFound
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return Actor{}, nil, bad
	} else if err != nil {
		return Actor{}, nil, err
	}
	if acct.Status == AccountClosed {
		return Actor{}, nil, bad
	}
	return Actor{AccountSID: acct.SID, Label: label, Via: "api", RemoteAddr: remote}, acct, nil
}
