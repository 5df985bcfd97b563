package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orgd/orgd/orgmodel"
)

// accessClaims are the claims of an Organizations API access token: the
// OAuth client it was issued to (sub) and the one organization it acts in.
type accessClaims struct {
	Org string `json:"org"`
	jwt.RegisteredClaims
}

// TokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// IssueToken checks OAuth 2.0 client credentials and returns a signed
// access token for the client's organization, valid for
// orgmodel.AccessTokenTTL. The token is a JWT (EdDSA) carrying exp, which
// Twilio's SDKs read to know when to fetch the next one.
func (a *Authenticator) IssueToken(ctx context.Context, clientID, secret, remote string) (*TokenResponse, error) {
	actor, err := a.svc.AuthenticateOAuthClient(ctx, clientID, secret, remote)
	if err != nil {
		return nil, err
	}
	ring, err := a.keyRing(ctx, false)
	if err != nil {
		return nil, err
	}
	now := a.svc.Now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return nil, err
	}
	claims := accessClaims{
		Org: string(actor.OrgSID),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.issuer,
			Subject:   clientID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(orgmodel.AccessTokenTTL)),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = ring.Current.KID
	signed, err := t.SignedString(ring.Current.PrivateKey())
	if err != nil {
		return nil, fmt.Errorf("api: signing an access token: %w", err)
	}
	return &TokenResponse{AccessToken: signed, TokenType: "Bearer", ExpiresIn: int64(orgmodel.AccessTokenTTL / time.Second)}, nil
}

// BearerActor verifies an access token and returns the actor it acts as
// within org (see OrgActor).
func (a *Authenticator) BearerActor(ctx context.Context, token string, org orgmodel.OrgSID, remote string) (orgmodel.Actor, error) {
	bad := orgmodel.Unauthenticated("the access token is not valid")
	if len(token) > 4096 {
		return orgmodel.Actor{}, bad
	}
	var claims accessClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(a.issuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithTimeFunc(a.svc.Now),
	)
	var lookupErr error
	_, err := p.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := a.verificationKey(ctx, kid)
		if err != nil {
			if !errors.Is(err, errUnknownKey) {
				lookupErr = err // the database, not the token
			}
			return nil, err
		}
		return k.PublicKey(), nil
	})
	if lookupErr != nil {
		return orgmodel.Actor{}, lookupErr
	}
	if err != nil {
		return orgmodel.Actor{}, bad
	}
	if claims.Org != string(org) {
		// Another organization's token: the same answer as for an
		// organization that does not exist.
		return orgmodel.Actor{}, orgmodel.NotFound("organization", string(org))
	}
	actor, err := a.svc.OAuthClientActor(ctx, orgmodel.OAuthClientSID(claims.Subject), remote)
	if err != nil {
		return orgmodel.Actor{}, err
	}
	if actor.OrgSID != org {
		return orgmodel.Actor{}, bad // the client left the organization (a merge) after the token was issued
	}
	return actor, nil
}

// keyRing returns the signing keys, refreshed from the database at least
// every orgmodel.SigningKeyRefresh and whenever the current key is due for
// rotation (or at once when force is set).
func (a *Authenticator) keyRing(ctx context.Context, force bool) (*orgmodel.KeyRing, error) {
	a.keysMu.Lock()
	r, at := a.keys, a.keysAt
	a.keysMu.Unlock()
	if !force && r != nil && time.Since(at) < orgmodel.SigningKeyRefresh && a.svc.Now().Before(r.RotateAt) {
		return r, nil
	}
	v, err, _ := a.flight.Do("keyring", func() (any, error) {
		fresh, err := a.svc.SigningKeys(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		a.keysMu.Lock()
		a.keys, a.keysAt = fresh, time.Now()
		a.keysMu.Unlock()
		return fresh, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*orgmodel.KeyRing), nil
}

var errUnknownKey = errors.New("unknown signing key")

// verificationKey finds kid; a kid this replica has not seen yet (another
// replica rotated) refreshes the ring, at most once a second.
func (a *Authenticator) verificationKey(ctx context.Context, kid string) (*orgmodel.SigningKey, error) {
	r, err := a.keyRing(ctx, false)
	if err != nil {
		return nil, err
	}
	if k := r.Lookup(kid); k != nil {
		return k, nil
	}
	a.keysMu.Lock()
	mayRefresh := time.Since(a.keysMiss) > time.Second
	if mayRefresh {
		a.keysMiss = time.Now()
	}
	a.keysMu.Unlock()
	if !mayRefresh {
		return nil, errUnknownKey
	}
	if r, err = a.keyRing(ctx, true); err != nil {
		return nil, err
	}
	if k := r.Lookup(kid); k != nil {
		return k, nil
	}
	return nil, errUnknownKey
}

// createToken is POST /v2/token: the OAuth 2.0 client credentials grant
// (RFC 6749 §4.4), with the client's credentials in the form or in HTTP
// Basic (§2.3.1).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			h.writeError(w, r, orgmodel.Invalid("body", "the token request must be application/x-www-form-urlencoded"))
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		h.writeError(w, r, invalidForm(err, "application/x-www-form-urlencoded"))
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		h.writeError(w, r, orgmodel.Invalid("grant_type", "grant_type is required (client_credentials)"))
		return
	default:
		h.writeError(w, r, &coded{err: invalidParam("grant_type", "grant_type %.40q is not supported; use client_credentials", gt), oauth: "unsupported_grant_type"})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		if id != "" && id != u {
			h.writeError(w, r, orgmodel.Invalid("client_id", "client_id differs from the HTTP Basic user"))
			return
		}
		id, secret = u, p
	}
	if id == "" || secret == "" {
		h.writeError(w, r, orgmodel.Unauthenticated("client_id and client_secret are required"))
		return
	}
	t, err := h.auth.IssueToken(r.Context(), id, secret, remoteAddr(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	h.writeJSON(w, r, http.StatusOK, t)
}

// ReloadSigningKeys reads the signing keys again at once instead of within
// orgmodel.SigningKeyRefresh, for example right after an operator retired a
// leaked key from this process.
func (a *Authenticator) ReloadSigningKeys(ctx context.Context) error {
	_, err := a.keyRing(ctx, true)
	return err
}
