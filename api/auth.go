package api

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/singleflight"

	"github.com/orgd/orgd/orgmodel"
)

// Authenticator checks the credentials of both halves of the API: HTTP
// Basic account credentials (AccountSid:AuthToken or SK…:secret) for the
// 2010-04-01 API, and OAuth 2.0 bearer tokens it issued itself for the
// Organizations API. One Authenticator is shared by every handler of the
// Organizations API (the SCIM mount included) so that they accept the same
// tokens and invalidate the same cache.
type Authenticator struct {
	svc      *orgmodel.Service
	issuer   string
	credTTL  time.Duration
	creds    credCache
	flight   singleflight.Group
	keysMu   sync.Mutex
	keys     *orgmodel.KeyRing
	keysAt   time.Time // local monotonic time of the last refresh
	keysMiss time.Time // last refresh forced by an unknown kid
}

// AuthOptions tunes an Authenticator.
type AuthOptions struct {
	// CredentialTTL is how long a checked Basic credential is trusted
	// before the database is read again: what a change made elsewhere (the
	// CLI, the console, another replica) may take to reach this process.
	// Changes made through this API reach it at once. 0 means
	// DefaultCredentialTTL; negative disables the cache.
	CredentialTTL time.Duration
	// Issuer is the tokens' iss claim; "" means "orgd".
	Issuer string
}

// DefaultCredentialTTL bounds how long a closed account, a deleted API key
// or a rotated auth token keeps working on a replica that did not make the
// change.
const DefaultCredentialTTL = 2 * time.Second

// tokenAudience is the aud claim of the Organizations API's access tokens.
const tokenAudience = "orgd:organizations"

// maxCachedCredentials bounds the cache; past it, it starts over.
const maxCachedCredentials = 10000

// NewAuthenticator returns an Authenticator over svc.
func NewAuthenticator(svc *orgmodel.Service, opts AuthOptions) *Authenticator {
	a := &Authenticator{svc: svc, issuer: opts.Issuer, credTTL: opts.CredentialTTL}
	if a.issuer == "" {
		a.issuer = "orgd"
	}
	if a.credTTL == 0 {
		a.credTTL = DefaultCredentialTTL
	}
	a.creds.m = map[[32]byte]credEntry{}
	return a
}

// credCache maps the SHA-256 of a presented credential (user and secret)
// to the actor it was found to be, for a short time. A wrong secret hashes
// to another key, so it can never hit a right one's entry.
type credCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]credEntry
	gen uint64 // bumped by every invalidation
}

type credEntry struct {
	actor   orgmodel.Actor
	expires time.Time
}

func (c *credCache) get(k [32]byte, now time.Time) (orgmodel.Actor, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return orgmodel.Actor{}, false
	}
	return e.actor, true
}

func (c *credCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores an entry unless the cache was invalidated since gen was read:
// a check that started before a credential changed must not outlive it.
func (c *credCache) put(k [32]byte, e credEntry, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= maxCachedCredentials {
		for key, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= maxCachedCredentials {
			clear(c.m)
		}
	}
	c.m[k] = e
}

func (c *credCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// InvalidateCredentials drops every cached Basic credential at once. The
// API calls it after each change it makes to a credential or an account's
// status; call it after such changes made elsewhere in this process.
func (a *Authenticator) InvalidateCredentials() { a.creds.clear() }

// AccountActor checks HTTP Basic credentials of the 2010-04-01 API and
// returns the account credential actor (R-HIER-5 isolation follows from
// it). A credential checked less than CredentialTTL ago is trusted without
// a database read; no secret is ever hashed slowly (they are random and
// stored as SHA-256).
func (a *Authenticator) AccountActor(ctx context.Context, user, secret, remote string) (orgmodel.Actor, error) {
	if len(user) > 64 || len(secret) > 200 {
		return orgmodel.Actor{}, orgmodel.Unauthenticated("authentication failed")
	}
	if a.credTTL < 0 {
		actor, _, err := a.svc.AuthenticateAccount(ctx, user, secret, remote)
		return actor, err
	}
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	var key [32]byte
	h.Sum(key[:0])
	if actor, ok := a.creds.get(key, time.Now()); ok {
		actor.RemoteAddr = remote
		return actor, nil
	}
	// Concurrent first requests with one credential check it once.
	v, err, _ := a.flight.Do("basic:"+string(key[:]), func() (any, error) {
		gen := a.creds.generation()
		actor, _, err := a.svc.AuthenticateAccount(context.WithoutCancel(ctx), user, secret, "")
		if err != nil {
			return nil, err
		}
		now := time.Now()
		a.creds.put(key, credEntry{actor: actor, expires: now.Add(a.credTTL)}, gen, now)
		return actor, nil
	})
	if err != nil {
		return orgmodel.Actor{}, err
	}
	actor := v.(orgmodel.Actor)
	actor.RemoteAddr = remote
	return actor, nil
}

// OrgActor returns the actor that r's bearer token acts as within org:
// the organization's agent (an OAuth client acting as its administrator,
// Via "api"). A token of another organization is refused exactly like an
// organization that does not exist (NotFound); a missing, expired,
// malformed or revoked token is Unauthenticated. Errors are orgmodel
// RuleErrors, for the caller's own wire format.
func (a *Authenticator) OrgActor(r *http.Request, org orgmodel.OrgSID) (orgmodel.Actor, error) {
	token, ok := bearerToken(r)
	if !ok {
		return orgmodel.Actor{}, orgmodel.Unauthenticated("no bearer token was provided")
	}
	return a.BearerActor(r.Context(), token, org, remoteAddr(r))
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

type actorKey struct{}

func withActor(ctx context.Context, a orgmodel.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorFrom(ctx context.Context) orgmodel.Actor {
	a, _ := ctx.Value(actorKey{}).(orgmodel.Actor)
	return a
}

// basicAuth authenticates the 2010-04-01 API.
func (h *handler) basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, secret, ok := r.BasicAuth()
		if !ok {
			h.writeError(w, r, orgmodel.Unauthenticated("no credentials provided"))
			return
		}
		actor, err := h.auth.AccountActor(r.Context(), user, secret, remoteAddr(r))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withActor(r.Context(), actor)))
	})
}

// bearerAuth authenticates the Organizations API for the organization in
// the path.
func (h *handler) bearerAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org := orgmodel.OrgSID(chi.URLParam(r, "OrganizationSid"))
		if !orgmodel.ValidSID(orgmodel.PrefixOrg, string(org)) {
			h.writeError(w, r, withCode(orgmodel.NotFound("organization", string(org)), codeOrgNotFound, 0))
			return
		}
		actor, err := h.auth.OrgActor(r, org)
		if err != nil {
			if orgmodel.KindOf(err) == orgmodel.KindNotFound {
				err = withCode(err, codeOrgNotFound, 0)
			}
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withActor(r.Context(), actor)))
	})
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}
