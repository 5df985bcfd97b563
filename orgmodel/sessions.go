package orgmodel

import (
	"context"
	"errors"
	"sync"
	"time"
)

// LoginPolicy is what the login page needs to know about an email.
type LoginPolicy struct {
	// SSO is true when the user (or, for an unknown email, the domain's
	// SSO-enforcing organization) must log in through the IdP (R-DOM-5).
	SSO    bool
	OrgSID OrgSID // the organization whose IdP to use, when SSO
	// IdPOrgSID is an organization whose IdP the person may choose instead
	// of a password: the user's own organization when it has an IdP, or,
	// for an unknown email, the one organization with an IdP that verified
	// the email's domain. "" when there is none.
	IdPOrgSID OrgSID
}

// LoginPolicyFor resolves an email to its login path without revealing
// whether a user exists: an unknown email on an SSO-enforcing domain routes
// to that organization's IdP (R-DOM-4 keeps it unique), otherwise to the
// password form.
func (s *Service) LoginPolicyFor(ctx context.Context, email string) (LoginPolicy, error) {
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return LoginPolicy{}, err
	}
	var p LoginPolicy
	err = s.store.Read(ctx, func(tx Tx) error {
		u, err := tx.GetUserByEmail(ctx, email)
		if err == nil {
			sso, err := s.ssoEnforced(ctx, tx, u)
			p = LoginPolicy{SSO: sso, OrgSID: u.OrgSID}
			if !sso {
				p.OrgSID = ""
			}
			if err != nil {
				return err
			}
			if _, err := tx.GetIdP(ctx, u.OrgSID); err == nil {
				p.IdPOrgSID = u.OrgSID
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		claims, err := tx.ListDomainClaims(ctx, EmailDomain(email))
		if err != nil {
			return err
		}
		var withIdP []OrgSID
		for _, c := range claims {
			if c.Status != DomainVerified {
				continue
			}
			if c.SSOEnforced {
				p = LoginPolicy{SSO: true, OrgSID: c.OrgSID}
			}
			if _, err := tx.GetIdP(ctx, c.OrgSID); err == nil {
				withIdP = append(withIdP, c.OrgSID)
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		switch {
		case p.SSO:
			p.IdPOrgSID = p.OrgSID
		case len(withIdP) == 1:
			p.IdPOrgSID = withIdP[0]
		}
		return nil
	})
	return p, err
}

var dummyHash struct {
	once sync.Once
	hash string
}

// burnVerify spends the time of one password check, so that a miss on an
// unknown email is not faster than a wrong password.
func (s *Service) burnVerify(password string) {
	dummyHash.once.Do(func() { dummyHash.hash, _ = s.hasher.Hash("orgd-dummy-password") })
	_, _ = s.hasher.Verify(dummyHash.hash, password)
}

// CheckPasswordLogin checks an email and password. A user whose domain
// enforces SSO is refused (R-DOM-5, R-SSO-2), as are deactivated users and
// users without a password. Unknown emails cost the same time as known ones.
// The caller then checks the second factor and starts the session.
func (s *Service) CheckPasswordLogin(ctx context.Context, email, password string) (*User, error) {
	bad := Unauthenticated("the email or password is not correct")
	norm, err := NormalizeEmail("email", email)
	if err != nil || len(password) > MaxPasswordLen {
		return nil, bad
	}
	var u *User
	var sso bool
	err = s.store.Read(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.GetUserByEmail(ctx, norm); err != nil {
			return err
		}
		sso, err = s.ssoEnforced(ctx, tx, u)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		s.burnVerify(password)
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	if sso {
		return nil, Breaks("R-DOM-5", KindForbidden, "%s must log in through the organization's single sign-on", u.Email)
	}
	if u.PasswordHash == "" {
		s.burnVerify(password)
		return nil, bad
	}
	ok, err := s.hasher.Verify(u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, bad
	}
	if u.Status != UserActive {
		return nil, Breaks("R-SCIM-2", KindForbidden, "this user is deactivated")
	}
	return u, nil
}

// StartSession opens a server-side session for user and returns its token
// (shown once; the store keeps its hash). via is "password" or "sso".
func (s *Service) StartSession(ctx context.Context, a Actor, user UserSID, via string) (string, *Session, error) {
	var token string
	var sess *Session
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		token, sess, err = s.startSessionTx(ctx, tx, a, user, via)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// StartSSOSession uses a verified assertion's ID once for org (the replay
// cache, R-SSO-1) and opens an SSO session for user, in one transaction:
// the assertion is spent exactly when the session starts.
func (s *Service) StartSSOSession(ctx context.Context, a Actor, org OrgSID, user UserSID, assertionID string, until time.Time) (string, *Session, error) {
	if assertionID == "" || len(assertionID) > 256 {
		return "", nil, Breaks("R-SSO-1", KindUnauthenticated, "the assertion has no usable ID")
	}
	now := s.Now()
	if !until.After(now) {
		until = now.Add(time.Second)
	}
	var token string
	var sess *Session
	err := s.store.InTx(ctx, func(tx Tx) error {
		fresh, err := tx.ConsumeOnce(ctx, "saml|"+string(org)+"|"+assertionID, until, now)
		if err != nil {
			return err
		}
		if !fresh {
			return Breaks("R-SSO-1", KindUnauthenticated, "the assertion was already used")
		}
		token, sess, err = s.startSessionTx(ctx, tx, a, user, ViaSSO)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

func (s *Service) startSessionTx(ctx context.Context, tx Tx, a Actor, user UserSID, via string) (string, *Session, error) {
	token := newToken("ses_")
	now := s.Now()
	sess := &Session{
		ID: randomHex(8), TokenHash: HashToken(token), UserSID: user, Via: via,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxTTL), IdleTTL: int64(SessionIdleTTL / time.Second),
	}
	u, err := tx.GetUser(ctx, user)
	if err != nil {
		return "", nil, notFoundAs(err, "user", string(user))
	}
	if u.Status != UserActive {
		return "", nil, Breaks("R-SCIM-2", KindForbidden, "this user is deactivated")
	}
	if via == "password" {
		if sso, err := s.ssoEnforced(ctx, tx, u); err != nil {
			return "", nil, err
		} else if sso {
			return "", nil, Breaks("R-DOM-5", KindForbidden, "%s must log in through single sign-on", u.Email)
		}
	}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	a.UserSID = u.SID
	if err := s.audit(ctx, tx, a, u.OrgSID, "session.start", sess.ID, nil, sess); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// touchGranularity bounds how often a session's last-seen time is written.
const touchGranularity = 30 * time.Second

// Session returns the live session of token and its user. It refuses ended
// sessions, sessions past their idle or absolute timeout, deactivated users,
// and password sessions of users whose domain now enforces SSO (R-SSO-2:
// session refresh honours enforcement).
func (s *Service) Session(ctx context.Context, token string) (*Session, *User, error) {
	bad := Unauthenticated("the session has ended; log in again")
	if len(token) < 10 || len(token) > 200 {
		return nil, nil, bad
	}
	var sess *Session
	var u *User
	var sso bool
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if sess, err = tx.GetSessionByTokenHash(ctx, HashToken(token)); err != nil {
			return err
		}
		if u, err = tx.GetUser(ctx, sess.UserSID); err != nil {
			return err
		}
		sso, err = s.ssoEnforced(ctx, tx, u)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil, bad
	} else if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	idle := time.Duration(sess.IdleTTL) * time.Second
	switch {
	case sess.EndedAt != nil, !now.Before(sess.ExpiresAt), now.Sub(sess.LastSeenAt) >= idle, sess.Via == ViaPending:
		return nil, nil, bad
	case u.Status != UserActive:
		return nil, nil, bad
	case sso && sess.Via != "sso":
		return nil, nil, Breaks("R-SSO-2", KindUnauthenticated, "%s must now log in through single sign-on", u.Email)
	}
	if now.Sub(sess.LastSeenAt) >= touchGranularity {
		err := s.store.InTx(ctx, func(tx Tx) error {
			sess.LastSeenAt = now
			return tx.UpdateSession(ctx, sess)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return sess, u, nil
}

// SetSessionIdle shortens a session's idle timeout (to HIPAAIdleTTL once
// the user reaches a HIPAA-flagged account).
func (s *Service) SetSessionIdle(ctx context.Context, sess *Session, idle time.Duration) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		sess.IdleTTL = int64(idle / time.Second)
		return tx.UpdateSession(ctx, sess)
	})
}

// EndSession ends one session (logout).
func (s *Service) EndSession(ctx context.Context, a Actor, token string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		sess, err := tx.GetSessionByTokenHash(ctx, HashToken(token))
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if sess.EndedAt != nil {
			return nil
		}
		now := s.Now()
		sess.EndedAt, sess.EndReason = &now, "logout"
		if err := tx.UpdateSession(ctx, sess); err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, sess.UserSID)
		if err != nil {
			return err
		}
		a.UserSID = u.SID
		return s.audit(ctx, tx, a, u.OrgSID, "session.end", sess.ID, nil, nil)
	})
}
