package sso

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/orgd/orgd/orgmodel"
)

// TOTP parameters: RFC 6238 defaults, which every authenticator app
// supports, with one step of clock skew either side.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// checkCode is orgmodel.CodeChecker at the service clock.
func (h *handler) checkCode(secret, code string) bool {
	ok, err := totp.ValidateCustom(code, secret, h.svc.Now(), totpOpts)
	return err == nil && ok
}

func (h *handler) actor(r *http.Request) orgmodel.Actor {
	return orgmodel.Actor{Via: "sso", RemoteAddr: clientIP(r)}
}

// next is the local path to land on after login.
func next(r *http.Request) string {
	if p := localPath(r.FormValue("next")); p != "" {
		return p
	}
	return "/console/"
}

// loginPage is step one: the email (home-realm discovery follows).
func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login.html", page{Title: "Log in", Next: next(r), Email: r.URL.Query().Get("email"),
		Notice: r.URL.Query().Get("notice")})
}

// loginEmail routes the email: to the organization's IdP when its domain
// enforces SSO (R-DOM-5) or the person chose SSO; otherwise to the
// password form.
func (h *handler) loginEmail(w http.ResponseWriter, r *http.Request) {
	email, nxt := r.PostFormValue("email"), next(r)
	form := page{Title: "Log in", Email: email, Next: nxt}
	pol, err := h.svc.LoginPolicyFor(r.Context(), email)
	if err != nil {
		h.fail(w, r, err, failOpts{form: "login.html", data: form})
		return
	}
	org := pol.OrgSID
	if !pol.SSO && r.PostFormValue("method") == "sso" {
		org = pol.IdPOrgSID
		if org == "" {
			h.fail(w, r, &orgmodel.RuleError{Kind: orgmodel.KindNotFound, Msg: "no single sign-on is set up for this email; log in with your password"},
				failOpts{form: "password.html", data: page{Title: "Log in", Email: email, Next: nxt}})
			return
		}
	}
	if pol.SSO || org != "" {
		http.Redirect(w, r, "/sso/saml/"+string(org)+"/login?relay="+url.QueryEscape(nxt), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "password.html", page{Title: "Log in", Email: email, Next: nxt, SSOOrg: string(pol.IdPOrgSID)})
}

// loginPassword checks the password under the lockout; then either a
// session starts or the second factor is asked.
func (h *handler) loginPassword(w http.ResponseWriter, r *http.Request) {
	email, nxt := r.PostFormValue("email"), next(r)
	form := page{Title: "Log in", Email: email, Next: nxt}
	device := ""
	if c, err := r.Cookie(deviceCookie); err == nil {
		device = c.Value
	}
	step, err := h.svc.BeginPasswordLogin(r.Context(), h.actor(r), email, r.PostFormValue("password"), device)
	if err != nil {
		h.fail(w, r, err, failOpts{form: "password.html", data: form})
		return
	}
	if step.Need != "" {
		http.SetCookie(w, h.cookie(pendingCookie, step.Token, "/login", int(orgmodel.PendingLoginTTL/time.Second), http.SameSiteStrictMode))
		http.Redirect(w, r, "/login/2fa?next="+url.QueryEscape(nxt), http.StatusSeeOther)
		return
	}
	h.loggedIn(w, r, step.User.SID, step.Token, device, nxt)
}

func (h *handler) loggedIn(w http.ResponseWriter, r *http.Request, user orgmodel.UserSID, token, device, dest string) {
	h.setSession(w, token)
	if device == "" {
		if d, err := h.svc.TrustDevice(r.Context(), user); err == nil {
			http.SetCookie(w, h.cookie(deviceCookie, d, "/login", int(orgmodel.TrustedDeviceTTL/time.Second), http.SameSiteStrictMode))
		} else {
			h.log.Warn("sso: could not trust the device", "err", err)
		}
	}
	h.log.Info("sso: password login", "user", user)
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// secondFactorPage asks for a code, or shows a new secret to enrol.
func (h *handler) secondFactorPage(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	u, need, err := h.svc.PendingLogin(r.Context(), c.Value)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	p := page{Title: "Second factor", Need: need, Next: next(r)}
	if need == "enrol" {
		if err := h.enrolment(&p, u.Email, ""); err != nil {
			h.fail(w, r, err, failOpts{})
			return
		}
	}
	h.render(w, r, http.StatusOK, "2fa.html", p)
}

// enrolment fills p with a TOTP secret (new, or the one being confirmed)
// and its QR code.
func (h *handler) enrolment(p *page, email, secret string) error {
	var key *otp.Key
	var err error
	if secret == "" {
		key, err = totp.Generate(totp.GenerateOpts{Issuer: "orgd", AccountName: email, Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	} else {
		key, err = otp.NewKeyFromURL((&url.URL{Scheme: "otpauth", Host: "totp", Path: "/orgd:" + email,
			RawQuery: url.Values{"secret": {secret}, "issuer": {"orgd"}}.Encode()}).String())
	}
	if err != nil {
		return err
	}
	p.Secret = key.Secret()
	img, err := key.Image(200, 200)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	return nil
}

// secondFactor finishes the login with a code (enrolling the posted
// secret when enrolment is needed, R-USER-5).
func (h *handler) secondFactor(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	device := ""
	if d, err := r.Cookie(deviceCookie); err == nil {
		device = d.Value
	}
	nxt := next(r)
	tok, sess, err := h.svc.FinishLogin(r.Context(), h.actor(r), c.Value, device, r.PostFormValue("code"), r.PostFormValue("secret"), h.checkCode)
	if err != nil {
		p := page{Title: "Second factor", Next: nxt}
		if u, need, perr := h.svc.PendingLogin(r.Context(), c.Value); perr == nil {
			p.Need = need
			if need == "enrol" {
				if eerr := h.enrolment(&p, u.Email, r.PostFormValue("secret")); eerr != nil {
					_ = h.enrolment(&p, u.Email, "")
				}
			}
			h.fail(w, r, err, failOpts{form: "2fa.html", data: p})
			return
		}
		h.fail(w, r, err, failOpts{})
		return
	}
	h.clearCookie(w, pendingCookie, "/login")
	h.loggedIn(w, r, sess.UserSID, tok, device, nxt)
}

// logout ends the session (POST only, so that a link cannot log anyone out).
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(orgmodel.SessionCookie); err == nil {
		if err := h.svc.EndSession(r.Context(), h.actor(r), c.Value); err != nil {
			h.fail(w, r, err, failOpts{})
			return
		}
	}
	h.clearCookie(w, orgmodel.SessionCookie, "/")
	http.Redirect(w, r, "/login?notice="+url.QueryEscape("You are logged out."), http.StatusSeeOther)
}

func (h *handler) forgotPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "forgot.html", page{Title: "Forgot your password?"})
}

// forgot mails a reset link when the email may have one; the answer is
// the same either way.
func (h *handler) forgot(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	if err := h.svc.RequestPasswordReset(r.Context(), h.actor(r), email); err != nil {
		h.fail(w, r, err, failOpts{form: "forgot.html", data: page{Title: "Forgot your password?", Email: email}})
		return
	}
	h.render(w, r, http.StatusOK, "message.html", page{Title: "Check your mail",
		Message: "If " + email + " has a user that may log in with a password, a link to choose a new one is on its way. It works once, for 24 hours.",
		Link:    "/login", LinkText: "Back to login"})
}

func (h *handler) resetPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "reset.html", page{Title: "Choose a new password", Token: r.URL.Query().Get("token")})
}

// reset uses a reset link once (R-USER-4; refused under SSO, R-SSO-2).
func (h *handler) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	u, err := h.svc.CompletePasswordReset(r.Context(), h.actor(r), token, r.PostFormValue("password"))
	if err != nil {
		h.fail(w, r, err, failOpts{form: "reset.html", data: page{Title: "Choose a new password", Token: token}})
		return
	}
	http.Redirect(w, r, "/login?email="+url.QueryEscape(u.Email)+"&notice="+url.QueryEscape("Your password is set; log in with it."), http.StatusSeeOther)
}

func (h *handler) signupPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signup.html", page{Title: "Sign up", Token: r.URL.Query().Get("invitation")})
}

// signup starts a sign-up (a confirmation mail, R-DOM-3), or accepts an
// invitation with a password.
func (h *handler) signup(w http.ResponseWriter, r *http.Request) {
	if inv := r.PostFormValue("invitation"); inv != "" {
		res, err := h.svc.AcceptInvitation(r.Context(), h.actor(r), inv, r.PostFormValue("password"))
		if err != nil {
			h.fail(w, r, err, failOpts{form: "signup.html", data: page{Title: "Sign up", Token: inv}})
			return
		}
		h.log.Info("sso: invitation accepted", "user", res.UserSID, "org", res.OrgSID)
		http.Redirect(w, r, "/login?notice="+url.QueryEscape("Welcome! Your user is ready; log in."), http.StatusSeeOther)
		return
	}
	email, name := r.PostFormValue("email"), r.PostFormValue("name")
	if err := h.svc.StartSignup(r.Context(), h.actor(r), email, name); err != nil {
		h.fail(w, r, err, failOpts{form: "signup.html", data: page{Title: "Sign up", Email: email, Name: name}})
		return
	}
	h.render(w, r, http.StatusOK, "message.html", page{Title: "Check your mail",
		Message: "We sent a link to " + email + ". Open it within 24 hours to choose your password and finish signing up."})
}

func (h *handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	email, err := h.svc.SignupConfirmationEmail(r.Context(), token)
	if err != nil {
		h.fail(w, r, err, failOpts{})
		return
	}
	h.render(w, r, http.StatusOK, "confirm.html", page{Title: "Finish signing up", Email: email, Token: token})
}

// confirm signs up with a confirmed email (orgmodel.ConfirmSignup).
func (h *handler) confirm(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	res, err := h.svc.ConfirmSignup(r.Context(), h.actor(r), token, r.PostFormValue("password"))
	if err != nil {
		email, _ := h.svc.SignupConfirmationEmail(r.Context(), token)
		h.fail(w, r, err, failOpts{form: "confirm.html", data: page{Title: "Finish signing up", Email: email, Token: token}})
		return
	}
	h.log.Info("sso: signed up", "user", res.UserSID, "org", res.OrgSID, "joined", res.Joined)
	http.Redirect(w, r, "/login?notice="+url.QueryEscape("Your user is ready; log in."), http.StatusSeeOther)
}
