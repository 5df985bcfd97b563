package orgmodel

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// PasswordHasher hashes and checks passwords (argon2id in production; the
// implementation lives outside orgmodel, which uses the standard library only).
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash, in constant time.
	Verify(hash, password string) (bool, error)
}

// TXTResolver looks up DNS TXT records; *net.Resolver satisfies it.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Config is what a Service needs besides its Store.
type Config struct {
	// BaseURL prefixes the links the service mails (invitations, resets, confirmations).
	BaseURL string
	// Hasher hashes passwords. Required for sign-up, invitations and resets.
	Hasher PasswordHasher
	// Resolver answers domain verification look-ups (R-DOM-1).
	Resolver TXTResolver
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service applies every rule of RULES.md. Each command runs in one
// transaction that also writes its audit event (R-AUDIT-1).
type Service struct {
	store    Store
	hasher   PasswordHasher
	resolver TXTResolver
	baseURL  string
	now      func() time.Time
}

// NewService returns a Service over st.
func NewService(st Store, cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{
		store:    st,
		hasher:   cfg.Hasher,
		resolver: cfg.Resolver,
		baseURL:  strings.TrimRight(cfg.BaseURL, "/"),
		now:      now,
	}
}

// Store returns the service's store, for adapters that read directly.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's current time, truncated to the
// millisecond precision the store keeps.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// WithResolver returns a copy of s that verifies domains with r.
func (s *Service) WithResolver(r TXTResolver) *Service {
	c := *s
	c.resolver = r
	return &c
}

// Actor is who acts: a person, an organization's agent (a SCIM token or an
// OAuth client, acting as the organization's administrator), an account
// credential, or the operator. It is explicit at every call so that
// authorization and audit are visible.
type Actor struct {
	UserSID    UserSID    // a person, with exactly that person's permissions
	OrgSID     OrgSID     // without UserSID: an agent of this organization
	AccountSID AccountSID // an account credential (auth token or API key), R-HIER-5
	Operator   bool       // every rule applies except R-ROLE-3's role checks
	Label      string     // the credential, for audit: "scim:<id>", "oauth:OQ…", "key:SK…", "setup:<id>"
	Via        string     // cli, scim, sso, api, console, job
	RemoteAddr string
	// Scope narrows what the actor may do, whoever it is; "" is no
	// narrowing. ScopeIdentitySetup (a setup link) admits only the
	// single sign-on and SCIM configuration of its organization.
	Scope Scope
}

// Scope is a narrowing of an actor's permissions.
type Scope string

// ScopeIdentitySetup is a setup link's scope: configure the organization's
// SAML identity provider and SCIM provisioning, and nothing else an
// organization's agent may do (R-ROLE-3).
const ScopeIdentitySetup Scope = "identity-setup"

// OperatorActor returns the operator acting through via.
func OperatorActor(via string) Actor { return Actor{Operator: true, Via: via} }

// SystemActor is the server's own background jobs.
var SystemActor = Actor{Operator: true, Label: "system", Via: "job"}

// id names the actor in the audit log.
func (a Actor) id() string {
	switch {
	case a.UserSID != "":
		return string(a.UserSID)
	case a.Label != "":
		return a.Label
	case a.AccountSID != "":
		return string(a.AccountSID)
	case a.Operator:
		return "operator"
	case a.OrgSID != "":
		return "agent:" + string(a.OrgSID)
	}
	return "anonymous"
}

func (a Actor) isAgent() bool { return a.UserSID == "" && a.OrgSID != "" && !a.Operator }

// scopeAdmits refuses what a scoped actor may not do (R-ROLE-3). A setup
// link is an agent of one organization: elsewhere it sees nothing, and in
// its organization only the identity setup commands admit it.
func (a Actor) scopeAdmits(org OrgSID, setup bool, what string) error {
	switch {
	case a.Scope != ScopeIdentitySetup || a.UserSID != "" || a.Operator || a.AccountSID != "":
		// An unknown scope, or one on a kind of actor that never carries
		// one, admits nothing.
		return Breaks("R-ROLE-3", KindForbidden, "this credential may not %s", what)
	case a.OrgSID != org:
		return NotFound("organization", string(org))
	case !setup:
		return Breaks("R-ROLE-3", KindForbidden, "a setup link opens only the single sign-on and SCIM setup; it may not %s", what)
	}
	return nil
}

// perm is what an organization-level action needs (R-ROLE-3).
type perm int

const (
	permMember perm = iota // any active managed user
	permAdmin              // Owner or Administrator
	permOwner              // the Owner
)

// authorize checks that a may act on org with p and returns the acting user
// (nil for the operator and agents). Outsiders get NotFound, so that an
// organization's existence is not revealed to them. A scoped actor is
// refused: only the call sites that use authorizeSetup admit one, so a new
// command is closed to setup links until it says otherwise.
func (s *Service) authorize(ctx context.Context, tx Tx, a Actor, org OrgSID, p perm, what string) (*User, error) {
	return s.authorizeIn(ctx, tx, a, org, p, what, false)
}

// authorizeSetup is authorize for the single sign-on and SCIM
// configuration commands, which an actor scoped to ScopeIdentitySetup (a
// setup link of org) may also run.
func (s *Service) authorizeSetup(ctx context.Context, tx Tx, a Actor, org OrgSID, p perm, what string) (*User, error) {
	return s.authorizeIn(ctx, tx, a, org, p, what, true)
}

func (s *Service) authorizeIn(ctx context.Context, tx Tx, a Actor, org OrgSID, p perm, what string, setup bool) (*User, error) {
	if a.Scope != "" {
		if err := a.scopeAdmits(org, setup, what); err != nil {
			return nil, err
		}
	}
	switch {
	case a.Operator:
		return nil, nil
	case a.UserSID != "":
		u, err := tx.GetUser(ctx, a.UserSID)
		if errors.Is(err, ErrNotFound) || (err == nil && u.OrgSID != org) {
			return nil, NotFound("organization", string(org))
		}
		if err != nil {
			return nil, err
		}
		if u.Status != UserActive {
			return nil, Breaks("R-SCIM-2", KindForbidden, "user %s is deactivated", u.SID)
		}
		switch {
		case p == permOwner && u.Role != RoleOwner:
			return nil, Breaks("R-ROLE-3", KindForbidden, "only the Owner may %s", what)
		case p == permAdmin && u.Role != RoleOwner && u.Role != RoleAdministrator:
			return nil, Breaks("R-ROLE-3", KindForbidden, "only the Owner or an Administrator may %s", what)
		}
		return u, nil
	case a.isAgent():
		if a.OrgSID != org {
			return nil, NotFound("organization", string(org))
		}
		if p == permOwner {
			return nil, Breaks("R-ROLE-3", KindForbidden, "only the Owner may %s", what)
		}
		return nil, nil
	}
	return nil, NotFound("organization", string(org))
}

// audit appends one audit event in tx (R-AUDIT-1). before and after are
// marshalled to JSON; secrets never reach them (their fields are json:"-").
func (s *Service) audit(ctx context.Context, tx Tx, a Actor, org OrgSID, action, target string, before, after any) error {
	e := &AuditEvent{
		OrgSID: org, Actor: a.id(), Via: a.Via, RemoteAddr: a.RemoteAddr,
		Action: action, Target: target, At: s.Now(),
		Before: snapshot(before), After: snapshot(after),
	}
	if e.Via == "" {
		e.Via = "internal"
	}
	return tx.AppendAudit(ctx, e)
}

func snapshot(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"unencodable"}`
	}
	if string(b) == "null" {
		return ""
	}
	return string(b)
}

// clone copies a value so that "before" snapshots survive later mutation.
func clone[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// HashToken returns the SHA-256 hex of a high-entropy secret (tokens, API
// secrets); such secrets need no slow hash.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TokenMatches compares a presented secret with a stored SHA-256 hex in
// constant time.
func TokenMatches(storedHash, presented string) bool {
	got := HashToken(presented)
	return subtle.ConstantTimeCompare([]byte(storedHash), []byte(got)) == 1
}

// newToken returns a random secret with a readable prefix.
func newToken(prefix string) string { return prefix + randomHex(32) }

// enqueueMail writes a mail to the outbox in tx; it is sent after commit.
func (s *Service) enqueueMail(ctx context.Context, tx Tx, kind, to, subject, body string) error {
	now := s.Now()
	return tx.EnqueueMail(ctx, &Mail{
		Kind: kind, To: to, Subject: subject, Body: body,
		CreatedAt: now, NextAttemptAt: now,
	})
}

func (s *Service) link(path string) string { return s.baseURL + path }

func ptr[T any](v T) *T { return &v }
