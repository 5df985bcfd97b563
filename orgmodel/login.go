package orgmodel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// SessionCookie is the name of the browser cookie that carries a session
// token. The sso package sets it; the console reads it.
const SessionCookie = "orgd_session"

// Session kinds (Session.Via).
const (
	ViaPassword = "password"
	ViaSSO      = "sso"
	// ViaPending is a password login waiting for its second factor: it
	// reaches nothing (Session refuses it) and lives PendingLoginTTL.
	ViaPending = "pending"
)

// Login timing and limits.
const (
	// SAMLRequestTTL is how long an AuthnRequest ID can be answered.
	SAMLRequestTTL = 10 * time.Minute
	// PendingLoginTTL is how long a password login waits for its second factor.
	PendingLoginTTL = 10 * time.Minute
	// LoginFailureThreshold failures in a row lock a throttle key for
	// LoginLockBase, doubling with each further failure up to LoginLockMax.
	// The lock never lasts longer than LoginLockMax after the last failure,
	// and attempts made while locked are not checked and do not count. A
	// key is the account together with where the attempt comes from: the
	// client's IP address (its /64 for IPv6), or a browser the user logged
	// in from before (a trusted device). So failures from an attacker's
	// address lock only that address out of the account: the user, from
	// any other address, from a trusted browser or through SSO, still logs
	// in, and an attacker cannot turn the lockout into a denial of service.
	LoginFailureThreshold = 5
	LoginLockBase         = 30 * time.Second
	LoginLockMax          = 15 * time.Minute
	// LoginFailureReset forgets a count after this long without failures.
	LoginFailureReset = 24 * time.Hour
	// TrustedDeviceTTL is how long a browser keeps its own failure count.
	TrustedDeviceTTL = 90 * 24 * time.Hour
	// SignupConfirmTTL is how long a sign-up confirmation link works.
	SignupConfirmTTL = 24 * time.Hour
	// totpReplayTTL covers a TOTP code's validity with one step of skew
	// either side, so that a code works once.
	totpReplayTTL = 3 * time.Minute
	// resetRequestEvery bounds self-service reset mails per address.
	resetRequestEvery = 5 * time.Minute
)

// SAMLRequest is an AuthnRequest this server sent, answerable once.
type SAMLRequest struct {
	ID         string     `json:"id"`
	OrgSID     OrgSID     `json:"organization_sid"`
	RelayState string     `json:"relay_state,omitempty"`
	TestBy     UserSID    `json:"test_by,omitempty"` // a "test connection" started by this administrator
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
}

// LoginThrottle counts failed login attempts under one key.
type LoginThrottle struct {
	Key           string
	Failures      int
	LastFailureAt time.Time
}

// LockedUntil is when the key can be tried again; zero when it is not locked.
func (t *LoginThrottle) LockedUntil() time.Time {
	if t == nil || t.Failures < LoginFailureThreshold {
		return time.Time{}
	}
	d := LoginLockBase
	for i := LoginFailureThreshold; i < t.Failures && d < LoginLockMax; i++ {
		d *= 2
	}
	return t.LastFailureAt.Add(min(d, LoginLockMax))
}

// TrustedDevice is a browser a user logged in from; it has its own
// failure count (see LoginFailureThreshold).
type TrustedDevice struct {
	TokenHash string
	UserSID   UserSID
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SignupConfirmation is a mailed link that proves control of an email
// before a web sign-up (SignUpInput.EmailVerified).
type SignupConfirmation struct {
	TokenHash string
	Email     string
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// LoginSettings are an organization's login requirements.
type LoginSettings struct {
	OrgSID OrgSID `json:"organization_sid"`
	// RequireMFA makes every password login of the organization's users
	// need a second factor, enrolled at the next login when missing.
	RequireMFA bool      `json:"require_mfa"`
	UpdatedAt  time.Time `json:"date_updated"`
}

// --- SAML request tracking and replay ---

// TrackSAMLRequest records an AuthnRequest sent to org's identity provider,
// so that its response is accepted once (R-SSO-1). testBy is the
// administrator testing the connection, or "". relay is the local path to
// return to.
func (s *Service) TrackSAMLRequest(ctx context.Context, org OrgSID, id, relay string, testBy UserSID) (*SAMLRequest, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if id == "" || len(id) > 256 || len(relay) > 2048 {
		return nil, Invalid("id", "the request id or relay state is missing or too long")
	}
	now := s.Now()
	r := &SAMLRequest{ID: id, OrgSID: org, RelayState: relay, TestBy: testBy, CreatedAt: now, ExpiresAt: now.Add(SAMLRequestTTL)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.GetIdP(ctx, org); err != nil {
			return notFoundAs(err, "identity provider of organization", string(org))
		}
		if testBy != "" {
			if _, err := s.authorize(ctx, tx, Actor{UserSID: testBy}, org, permAdmin, "test single sign-on"); err != nil {
				return err
			}
		}
		return tx.CreateSAMLRequest(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// OpenSAMLRequest returns org's AuthnRequest id when it can still be
// answered (not used, not expired); otherwise NotFound.
func (s *Service) OpenSAMLRequest(ctx context.Context, org OrgSID, id string) (*SAMLRequest, error) {
	var r *SAMLRequest
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		r, err = tx.GetSAMLRequest(ctx, org, id)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && (r.UsedAt != nil || !s.Now().Before(r.ExpiresAt))) {
		return nil, Breaks("R-SSO-1", KindUnauthenticated, "the response answers no open request of this organization")
	}
	return r, err
}

// UseSAMLRequest marks org's AuthnRequest id answered; a second use, on
// any replica, is refused.
func (s *Service) UseSAMLRequest(ctx context.Context, org OrgSID, id string) error {
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.UseSAMLRequest(ctx, org, id, s.Now()) })
	if errors.Is(err, ErrNotFound) {
		return Breaks("R-SSO-1", KindUnauthenticated, "the request was already answered or expired")
	}
	return err
}

// ConsumeAssertion records a verified assertion's ID for org until it
// expires; a second use, on any replica, is refused (R-SSO-1).
func (s *Service) ConsumeAssertion(ctx context.Context, org OrgSID, id string, until time.Time) error {
	if id == "" || len(id) > 256 {
		return Breaks("R-SSO-1", KindUnauthenticated, "the assertion has no usable ID")
	}
	ok, err := s.consumeOnce(ctx, "saml|"+string(org)+"|"+id, until)
	if err != nil {
		return err
	}
	if !ok {
		return Breaks("R-SSO-1", KindUnauthenticated, "the assertion was already used")
	}
	return nil
}

func (s *Service) consumeOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	now := s.Now()
	if !until.After(now) {
		until = now.Add(time.Second)
	}
	var ok bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		ok, err = tx.ConsumeOnce(ctx, key, until, now)
		return err
	})
	return ok, err
}

// --- throttling ---

// throttleKey is the key failures of kind for subject count under: the
// device's own when it is a trusted device of user, else the client
// address's (remote, from Actor.RemoteAddr).
func (s *Service) throttleKey(ctx context.Context, tx Tx, kind, subject string, user UserSID, device, remote string) (string, error) {
	bucket := "ip:" + throttleNet(remote)
	if device != "" && user != "" && len(device) <= 200 {
		d, err := tx.GetTrustedDevice(ctx, HashToken(device))
		switch {
		case err == nil && d.UserSID == user && s.Now().Before(d.ExpiresAt):
			bucket = "dev:" + d.TokenHash[:16]
		case err != nil && !errors.Is(err, ErrNotFound):
			return "", err
		}
	}
	return kind + "|" + subject + "|" + bucket, nil
}

// throttleNet is the network a client address counts under: an IPv4
// address, an IPv6 address's /64 (one host's usual allocation), or the
// text as given when it is no address (a CLI actor has none).
func throttleNet(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		if len(host) > 64 {
			host = host[:64]
		}
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// Throttled is the refusal of an attempt while its key is locked; Until
// is when the key can be tried again, RetryAfter how long that is from
// now (Retry-After). It is a RuleError of KindTooMany.
type Throttled struct {
	*RuleError
	Until      time.Time
	RetryAfter time.Duration
}

func (t *Throttled) Unwrap() error { return t.RuleError }

// lockedError is the refusal while key is locked.
func lockedError(until time.Time, wait time.Duration) error {
	return &Throttled{RuleError: &RuleError{Kind: KindTooMany, Msg: fmt.Sprintf("too many failed attempts from your address; try again after %s", until.Format(time.RFC1123))},
		Until: until, RetryAfter: wait}
}

func (s *Service) checkThrottle(ctx context.Context, tx Tx, key string) error {
	t, err := tx.GetLoginThrottle(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if until, now := t.LockedUntil(), s.Now(); now.Before(until) {
		return lockedError(until, until.Sub(now))
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, key string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		now := s.Now()
		_, err := tx.AddLoginFailure(ctx, key, now, now.Add(-LoginFailureReset))
		return err
	})
}

func (s *Service) clearFailures(ctx context.Context, key string) error {
	return s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteLoginThrottle(ctx, key) })
}

// --- password login with a second factor ---

// LoginStep is where a password login stands.
type LoginStep struct {
	User *User
	// Need is "" when the login is complete (Token is a session), "verify"
	// when the user must enter a code of the enrolled second factor, and
	// "enrol" when the user must enrol one first (R-USER-5).
	Need string
	// Token is the session token: a full session when Need is "", else a
	// pending login that only FinishLogin accepts.
	Token   string
	Session *Session
}

// SecondFactorNeed tells what u must do about a second factor at a
// password login: "enrol" when R-USER-5 forces enrolment, when the
// organization requires a second factor, or when u is the Owner of an
// organization that enforces SSO (the break-glass path must not rest on a
// password alone) and none is enrolled; "verify" when one is enrolled;
// otherwise "".
func (s *Service) SecondFactorNeed(ctx context.Context, u *User) (string, error) {
	var need string
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		need, err = s.secondFactorNeed(ctx, tx, u)
		return err
	})
	return need, err
}

func (s *Service) secondFactorNeed(ctx context.Context, tx Tx, u *User) (string, error) {
	if u.MFAEnrolRequired {
		return "enrol", nil
	}
	if u.TOTPSecret != "" {
		return "verify", nil
	}
	ls, err := tx.GetLoginSettings(ctx, u.OrgSID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if ls != nil && ls.RequireMFA {
		return "enrol", nil
	}
	if u.Role == RoleOwner {
		ds, err := tx.ListDomains(ctx, u.OrgSID)
		if err != nil {
			return "", err
		}
		for _, d := range ds {
			if d.Status == DomainVerified && d.SSOEnforced {
				return "enrol", nil
			}
		}
	}
	return "", nil
}

// BeginPasswordLogin checks an email and password (CheckPasswordLogin:
// R-DOM-5, R-SSO-2, R-SCIM-2) under the failure lockout, and starts either
// a session or, when a second factor is needed, a pending login. device is
// the browser's trusted-device token, or "".
func (s *Service) BeginPasswordLogin(ctx context.Context, a Actor, email, password, device string) (*LoginStep, error) {
	norm, err := NormalizeEmail("email", email)
	if err != nil {
		return nil, Unauthenticated("the email or password is not correct")
	}
	var key string
	err = s.store.Read(ctx, func(tx Tx) error {
		var user UserSID
		if u, err := tx.GetUserByEmail(ctx, norm); err == nil {
			user = u.SID
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if key, err = s.throttleKey(ctx, tx, "pw", EmailKey(norm), user, device, a.RemoteAddr); err != nil {
			return err
		}
		return s.checkThrottle(ctx, tx, key)
	})
	if err != nil {
		return nil, err
	}
	u, err := s.CheckPasswordLogin(ctx, norm, password)
	if KindOf(err) == KindUnauthenticated {
		if ferr := s.recordFailure(ctx, key); ferr != nil {
			return nil, ferr
		}
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if err := s.clearFailures(ctx, key); err != nil {
		return nil, err
	}
	need, err := s.SecondFactorNeed(ctx, u)
	if err != nil {
		return nil, err
	}
	if need == "" {
		tok, sess, err := s.StartSession(ctx, a, u.SID, ViaPassword)
		if err != nil {
			return nil, err
		}
		return &LoginStep{User: u, Token: tok, Session: sess}, nil
	}
	tok, sess, err := s.startPending(ctx, a, u)
	if err != nil {
		return nil, err
	}
	return &LoginStep{User: u, Need: need, Token: tok, Session: sess}, nil
}

func (s *Service) startPending(ctx context.Context, a Actor, u *User) (string, *Session, error) {
	token := newToken("pnd_")
	now := s.Now()
	sess := &Session{
		ID: randomHex(8), TokenHash: HashToken(token), UserSID: u.SID, Via: ViaPending,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(PendingLoginTTL), IdleTTL: int64(PendingLoginTTL / time.Second),
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.CreateSession(ctx, sess) })
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// PendingLogin returns the pending login of token and its user, and what
// second factor step it needs.
func (s *Service) PendingLogin(ctx context.Context, token string) (*User, string, error) {
	bad := Unauthenticated("the login has expired; start again")
	if len(token) < 10 || len(token) > 200 {
		return nil, "", bad
	}
	var sess *Session
	var u *User
	var need string
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if sess, err = tx.GetSessionByTokenHash(ctx, HashToken(token)); err != nil {
			return err
		}
		if u, err = tx.GetUser(ctx, sess.UserSID); err != nil {
			return err
		}
		need, err = s.secondFactorNeed(ctx, tx, u)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, "", bad
	} else if err != nil {
		return nil, "", err
	}
	if sess.Via != ViaPending || sess.EndedAt != nil || !s.Now().Before(sess.ExpiresAt) || u.Status != UserActive {
		return nil, "", bad
	}
	return u, need, nil
}

// CodeChecker reports whether code is a current code of the TOTP secret
// (the sso package implements it with pquerna/otp; orgmodel keeps to the
// standard library).
type CodeChecker func(secret, code string) bool

// FinishLogin completes a pending password login with a second factor
// code: of the enrolled factor, or — when enrolment is needed (R-USER-5)
// — of enrolSecret, which is then enrolled. Wrong codes count towards the
// lockout; a code works once. It ends the pending login and starts the
// session (which re-checks R-DOM-5 and R-SCIM-2).
func (s *Service) FinishLogin(ctx context.Context, a Actor, pending, device, code, enrolSecret string, check CodeChecker) (string, *Session, error) {
	u, need, err := s.PendingLogin(ctx, pending)
	if err != nil {
		return "", nil, err
	}
	wrong := Unauthenticated("the code is not correct")
	code = strings.TrimSpace(code)
	if len(code) < 6 || len(code) > 10 {
		return "", nil, wrong
	}
	var key string
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if key, err = s.throttleKey(ctx, tx, "mfa", string(u.SID), u.SID, device, a.RemoteAddr); err != nil {
			return err
		}
		return s.checkThrottle(ctx, tx, key)
	}); err != nil {
		return "", nil, err
	}
	secret := u.TOTPSecret
	switch need {
	case "enrol":
		if enrolSecret == "" || len(enrolSecret) > 128 {
			return "", nil, Breaks("R-USER-5", KindConflict, "a second factor must be enrolled before logging in")
		}
		secret = enrolSecret
	case "verify":
	default:
		secret = ""
	}
	if secret != "" {
		if !check(secret, code) {
			if err := s.recordFailure(ctx, key); err != nil {
				return "", nil, err
			}
			return "", nil, wrong
		}
		fresh, err := s.consumeOnce(ctx, "totp|"+string(u.SID)+"|"+code, s.Now().Add(totpReplayTTL))
		if err != nil {
			return "", nil, err
		}
		if !fresh {
			if err := s.recordFailure(ctx, key); err != nil {
				return "", nil, err
			}
			return "", nil, wrong
		}
		if err := s.clearFailures(ctx, key); err != nil {
			return "", nil, err
		}
		if need == "enrol" {
			if err := s.SetTOTP(ctx, Actor{UserSID: u.SID, Via: a.Via, RemoteAddr: a.RemoteAddr}, u.SID, secret); err != nil {
				return "", nil, err
			}
		}
	}
	if err := s.endPending(ctx, pending); err != nil {
		return "", nil, err
	}
	return s.StartSession(ctx, a, u.SID, ViaPassword)
}

func (s *Service) endPending(ctx context.Context, token string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		sess, err := tx.GetSessionByTokenHash(ctx, HashToken(token))
		if err != nil {
			return notFoundAs(err, "login", "")
		}
		if sess.EndedAt != nil {
			return Unauthenticated("the login has expired; start again")
		}
		now := s.Now()
		sess.EndedAt, sess.EndReason = &now, "second_factor"
		return tx.UpdateSession(ctx, sess)
	})
}

// TrustDevice issues a trusted-device token for a browser user logged in
// from, so that its failed attempts count apart from everybody else's.
func (s *Service) TrustDevice(ctx context.Context, user UserSID) (string, error) {
	token := newToken("dev_")
	now := s.Now()
	d := &TrustedDevice{TokenHash: HashToken(token), UserSID: user, CreatedAt: now, ExpiresAt: now.Add(TrustedDeviceTTL)}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.CreateTrustedDevice(ctx, d) }); err != nil {
		return "", err
	}
	return token, nil
}

// --- organization login settings ---

// GetLoginSettings returns org's login settings (any member).
func (s *Service) GetLoginSettings(ctx context.Context, a Actor, org OrgSID) (*LoginSettings, error) {
	var out *LoginSettings
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permMember, "see login settings"); err != nil {
			return err
		}
		ls, err := tx.GetLoginSettings(ctx, org)
		if errors.Is(err, ErrNotFound) {
			ls, err = &LoginSettings{OrgSID: org}, nil
		}
		out = ls
		return err
	})
	return out, err
}

// SetRequireMFA makes a second factor required (or not) for every password
// login of org's users; Owner or Administrator (R-ROLE-3).
func (s *Service) SetRequireMFA(ctx context.Context, a Actor, org OrgSID, on bool) (*LoginSettings, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	var out *LoginSettings
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrg(ctx, org); err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "change login settings"); err != nil {
			return err
		}
		before, err := tx.GetLoginSettings(ctx, org)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		ls := &LoginSettings{OrgSID: org, RequireMFA: on, UpdatedAt: s.Now()}
		if err := tx.PutLoginSettings(ctx, ls); err != nil {
			return err
		}
		out = ls
		return s.audit(ctx, tx, a, org, "org.login_settings", string(org), before, ls)
	})
	return out, err
}

// --- HIPAA idle timeout ---

// NoteAccountVisit shortens sess's idle timeout to HIPAAIdleTTL once its
// user reaches a HIPAA-flagged account (or a subaccount of one): from then
// on the session ends after 15 minutes without activity.
func (s *Service) NoteAccountVisit(ctx context.Context, sess *Session, acct AccountSID) error {
	if err := acct.check("account"); err != nil {
		return err
	}
	if time.Duration(sess.IdleTTL)*time.Second <= HIPAAIdleTTL {
		return nil
	}
	var hipaa bool
	err := s.store.Read(ctx, func(tx Tx) error {
		a, err := tx.GetAccount(ctx, acct)
		if err != nil {
			return notFoundAs(err, "account", string(acct))
		}
		hipaa = a.HIPAA
		return nil
	})
	if err != nil || !hipaa {
		return err
	}
	return s.SetSessionIdle(ctx, sess, HIPAAIdleTTL)
}

// --- self-service password reset ---

// RequestPasswordReset mails a single-use reset link valid 24 hours to
// email's user (R-USER-4), unless the user must log in through single
// sign-on (R-SSO-2), is deactivated, or was sent one in the last five
// minutes. It answers the same whether or not the email has a user, and
// unlike an administrator's reset it neither clears the password nor ends
// sessions: only using the link does, so nobody can lock another person
// out by asking.
func (s *Service) RequestPasswordReset(ctx context.Context, a Actor, email string) error {
	norm, err := NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.GetUserByEmail(ctx, norm)
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if u.Status != UserActive {
			return nil
		}
		if sso, err := s.ssoEnforced(ctx, tx, u); err != nil || sso {
			return err
		}
		now := s.Now()
		key := "reset|" + string(u.SID)
		t, err := tx.GetLoginThrottle(ctx, key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if t != nil && now.Sub(t.LastFailureAt) < resetRequestEvery {
			return nil
		}
		if _, err := tx.AddLoginFailure(ctx, key, now, now.Add(-resetRequestEvery)); err != nil {
			return err
		}
		token := newToken("rst_")
		rt := &ResetToken{TokenHash: HashToken(token), UserSID: u.SID, ExpiresAt: now.Add(ResetLinkTTL), CreatedAt: now}
		if err := tx.CreateResetToken(ctx, rt); err != nil {
			return err
		}
		a.UserSID = u.SID
		if err := s.audit(ctx, tx, a, u.OrgSID, "user.password_reset_request", string(u.SID), nil, map[string]any{"link_expires_at": rt.ExpiresAt}); err != nil {
			return err
		}
		body := fmt.Sprintf("A password reset was requested for your orgd user %s. If it was not you, ignore this mail: your password has not changed.\n\nChoose a new password (the link works once, until %s):\n%s\n",
			u.Email, rt.ExpiresAt.Format(time.RFC1123), s.link("/reset?token="+token))
		return s.enqueueMail(ctx, tx, "password-reset", u.Email, "Reset your orgd password", body)
	})
}

// --- web sign-up with a confirmed email ---

// StartSignup begins a web sign-up: it applies R-DOM-3 to the email's
// domain at once (a Restricted domain without an invitation is refused),
// then mails a confirmation link valid 24 hours; the sign-up happens when
// the link is used (ConfirmSignup), which proves control of the address
// (SignUpInput.EmailVerified). When the email already has a user the mail
// says so instead, and the answer is the same, so that the form does not
// tell who has a user.
func (s *Service) StartSignup(ctx context.Context, a Actor, email, name string) error {
	norm, err := NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	if name != "" {
		if name, err = CheckName("name", name); err != nil {
			return err
		}
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		now := s.Now()
		if _, err := tx.GetUserByEmail(ctx, norm); err == nil {
			body := fmt.Sprintf("Someone asked to sign up to orgd with %s, which already has a user. Log in instead:\n%s\n\nIf you forgot your password, use \"Forgot your password?\" on that page.\n",
				norm, s.link("/login"))
			return s.enqueueMail(ctx, tx, "signup-existing", norm, "Your orgd sign-up", body)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		claims, err := tx.ListDomainClaims(ctx, EmailDomain(norm))
		if err != nil {
			return err
		}
		if dec := decideSignup(claims); dec.Outcome == "refused" {
			inv, err := s.soleInvitation(ctx, tx, norm)
			if err != nil {
				return err
			}
			if inv == nil {
				return Breaks(dec.Rule, KindForbidden, "%s", dec.Msg)
			}
		}
		token := newToken("cfm_")
		c := &SignupConfirmation{TokenHash: HashToken(token), Email: norm, Name: name, CreatedAt: now, ExpiresAt: now.Add(SignupConfirmTTL)}
		if err := tx.CreateSignupConfirmation(ctx, c); err != nil {
			return err
		}
		body := fmt.Sprintf("Confirm your email address to finish signing up to orgd (the link works once, until %s):\n%s\n",
			c.ExpiresAt.Format(time.RFC1123), s.link("/signup/confirm?token="+token))
		return s.enqueueMail(ctx, tx, "signup-confirmation", norm, "Confirm your orgd sign-up", body)
	})
}

// SignupConfirmationEmail returns the address a live confirmation link
// was sent to (for the page that asks for the password).
func (s *Service) SignupConfirmationEmail(ctx context.Context, token string) (string, error) {
	var c *SignupConfirmation
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetSignupConfirmation(ctx, HashToken(token))
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && (c.UsedAt != nil || !s.Now().Before(c.ExpiresAt))) {
		return "", Invalid("token", "the confirmation link is not valid or has expired; sign up again")
	} else if err != nil {
		return "", err
	}
	return c.Email, nil
}

// ConfirmSignup signs up the person who received a confirmation link,
// with a proven email (SignUp's rules: R-DOM-3, R-USER-3, R-HIER-2,
// R-USER-2). The link works once and the sign-up happens in the same
// transaction that uses it.
func (s *Service) ConfirmSignup(ctx context.Context, a Actor, token, password string) (*SignUpResult, error) {
	var c *SignupConfirmation
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetSignupConfirmation(ctx, HashToken(token))
		return err
	}); errors.Is(err, ErrNotFound) {
		return nil, Invalid("token", "the confirmation link is not valid; sign up again")
	} else if err != nil {
		return nil, err
	}
	if c.UsedAt != nil || !s.Now().Before(c.ExpiresAt) {
		return nil, Invalid("token", "the confirmation link was used or has expired; sign up again")
	}
	in := SignUpInput{Email: c.Email, Password: password, Name: c.Name, EmailVerified: true}
	return s.signUp(ctx, a, in, func(ctx context.Context, tx Tx) error {
		err := tx.UseSignupConfirmation(ctx, c.TokenHash, s.Now())
		if errors.Is(err, ErrNotFound) {
			return Invalid("token", "the confirmation link was already used")
		}
		return err
	})
}

// --- housekeeping ---

// PurgeLoginState deletes expired SAML requests, used keys, sign-up
// confirmations and trusted devices, and failure counts idle for
// LoginFailureReset. It returns how many rows went.
func (s *Service) PurgeLoginState(ctx context.Context) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		now := s.Now()
		var err error
		n, err = tx.PurgeLoginState(ctx, now, now.Add(-LoginFailureReset))
		return err
	})
	return n, err
}

// IdPsToRefresh lists identity providers configured from a metadata URL,
// for the periodic refresh (keyset paging by organization).
func (s *Service) IdPsToRefresh(ctx context.Context, after OrgSID, limit int) ([]*IdP, error) {
	var out []*IdP
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListIdPs(ctx, after, true, limit)
		return err
	})
	return out, err
}

// CheckSSOEmail checks, without logging anyone in, that an assertion's
// email is one org may log in through its IdP: on one of its verified
// domains (R-SSO-1) that is not Blocked (R-DOM-3). A connection test uses it.
func (s *Service) CheckSSOEmail(ctx context.Context, org OrgSID, email string) error {
	norm, err := NormalizeEmail("email", email)
	if err != nil {
		return Breaks("R-SSO-1", KindForbidden, "the assertion's email is not an email address")
	}
	return s.store.Read(ctx, func(tx Tx) error {
		d, err := tx.GetDomain(ctx, org, EmailDomain(norm))
		if errors.Is(err, ErrNotFound) || (err == nil && d.Status != DomainVerified) {
			return Breaks("R-SSO-1", KindForbidden, "%s is not on a verified domain of the organization", norm)
		} else if err != nil {
			return err
		}
		if d.Signup == SignupBlocked {
			return Breaks("R-DOM-3", KindForbidden, "%s is Blocked for this organization", d.Name)
		}
		return nil
	})
}
