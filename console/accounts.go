package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// accountRow is an account in the list, with its subaccounts.
type accountRow struct {
	*orgmodel.AccountView
	Owner string
	Subs  []*accountRow
}

type accountsData struct {
	Managed     []*accountRow
	Pending     []*accountRow
	Independent []*accountRow
	Total       int
}

// dashboard is the console's start: the organization at a glance.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	info, err := h.svc.ShowOrg(r.Context(), me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v := h.newView(w, r, info.FriendlyName, "home")
	verified := 0
	for _, d := range info.Domains {
		if d.Status == orgmodel.DomainVerified {
			verified++
		}
	}
	v.Data = struct {
		Info     *orgmodel.OrgInfo
		Verified int
	}{info, verified}
	h.render(w, r, "dashboard.html", v)
}

// emails maps the organization's users to their emails, for the Owner and
// Administrators (a Standard user sees SIDs: listing users is not theirs).
func (h *handler) emails(r *http.Request, me *who) map[orgmodel.UserSID]string {
	out := map[orgmodel.UserSID]string{}
	if !me.admin() {
		return out
	}
	users, err := h.svc.ListUsers(r.Context(), me.actor, me.org, orgmodel.UserFilter{})
	if err != nil {
		return out
	}
	for _, u := range users {
		out[u.SID] = u.Email
	}
	return out
}

func nameOf(emails map[orgmodel.UserSID]string, sid orgmodel.UserSID) string {
	if e, ok := emails[sid]; ok {
		return e
	}
	return string(sid)
}

// accountsPage lists what the organization holds (R-ACCT-1): managed
// accounts with their subaccounts, pending imports and independent
// accounts; a Standard user sees only those it reaches (orgmodel filters).
func (h *handler) accountsPage(w http.ResponseWriter, r *http.Request) {
	h.showAccounts(w, r, nil)
}

func (h *handler) showAccounts(w http.ResponseWriter, r *http.Request, v *view) {
	me := whoOf(r)
	accts, err := h.svc.ListAccounts(r.Context(), me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Accounts", "accounts")
	emails := h.emails(r, me)
	d := &accountsData{Total: len(accts)}
	top := map[orgmodel.AccountSID]*accountRow{}
	var subs []*accountRow
	for _, a := range accts {
		row := &accountRow{AccountView: a, Owner: nameOf(emails, a.OwnerSID)}
		switch a.Relation {
		case orgmodel.RelationManaged:
			d.Managed = append(d.Managed, row)
			top[a.SID] = row
		case orgmodel.RelationSubaccount:
			subs = append(subs, row)
		case orgmodel.RelationPending:
			d.Pending = append(d.Pending, row)
		default:
			d.Independent = append(d.Independent, row)
		}
	}
	for _, s := range subs {
		if p, ok := top[s.ParentSID]; ok {
			p.Subs = append(p.Subs, s)
		} else {
			d.Managed = append(d.Managed, s)
		}
	}
	byName := func(a, b *accountRow) int {
		return strings.Compare(strings.ToLower(a.FriendlyName), strings.ToLower(b.FriendlyName))
	}
	slices.SortStableFunc(d.Managed, byName)
	v.Data = d
	h.render(w, r, "accounts.html", v)
}

// createAccount creates a managed trial account (R-ACCT-2, R-ACCT-7,
// R-HIER-3) and shows its auth token, once.
func (h *handler) createAccount(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	res, err := h.svc.CreateAccount(r.Context(), me.actor, me.org, r.PostFormValue("name"), r.PostFormValue("usage"))
	if err != nil {
		h.refused(w, r, err, "create", h.showAccounts)
		return
	}
	v := h.newView(w, r, "Account created", "accounts")
	v.Data = res
	v.status = http.StatusCreated
	h.render(w, r, "account_created.html", v)
}

// importAccount asks to bring an existing account in (R-ACCT-3); its
// owner is mailed a confirmation.
func (h *handler) importAccount(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	sid := strings.TrimSpace(r.PostFormValue("sid"))
	v, err := h.svc.ImportAccount(r.Context(), me.actor, me.org, orgmodel.AccountSID(sid))
	if err != nil {
		h.refused(w, r, err, "import", h.showAccounts)
		return
	}
	h.done(w, r, "/console/accounts", fmt.Sprintf("%s (%s) is pending: its owner was mailed a confirmation link, valid 7 days. Nothing changes until they confirm.", v.FriendlyName, v.SID))
}

type accountData struct {
	Account *orgmodel.AccountView
	Owner   string
	Subs    []*orgmodel.Account
	Grants  []*grantRow
	Users   []*orgmodel.User // active managed users, for transfer and grants
	// Lifecycle is true when the lifecycle forms apply: a managed account
	// or subaccount, for an administrator or its owner (orgmodel decides
	// again on each form).
	Lifecycle bool
	Mine      bool
}

type grantRow struct {
	*orgmodel.Grant
	User string
}

// accountPage shows one account. A visit to a HIPAA-flagged account
// shortens the session's idle timeout to 15 minutes (NoteAccountVisit).
// An account of another organization is the same 404 as a missing one.
func (h *handler) accountPage(w http.ResponseWriter, r *http.Request) {
	h.showAccount(w, r, nil)
}

func (h *handler) showAccount(w http.ResponseWriter, r *http.Request, v *view) {
	me := whoOf(r)
	ctx := r.Context()
	sid := orgmodel.AccountSID(chi.URLParam(r, "sid"))
	acct, err := h.svc.GetAccount(ctx, me.actor, sid)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	if err := h.svc.NoteAccountVisit(ctx, me.sess, acct.SID); err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, acct.FriendlyName, "accounts")
	emails := h.emails(r, me)
	d := &accountData{Account: acct, Owner: nameOf(emails, acct.OwnerSID), Mine: acct.OwnerSID == me.user.SID}
	d.Lifecycle = (acct.Relation == orgmodel.RelationManaged || acct.Relation == orgmodel.RelationSubaccount) && (me.admin() || d.Mine)
	if acct.ParentSID == "" {
		if d.Subs, err = h.svc.ListSubaccounts(ctx, me.actor, acct.SID, orgmodel.AccountFilter{}); err != nil {
			h.errorPage(w, r, err)
			return
		}
	}
	if me.admin() {
		grants, err := h.svc.ListGrants(ctx, me.actor, me.org, orgmodel.GrantFilter{AccountSID: acct.SID})
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		for _, g := range grants {
			d.Grants = append(d.Grants, &grantRow{Grant: g, User: nameOf(emails, g.UserSID)})
		}
		users, err := h.svc.ListUsers(ctx, me.actor, me.org, orgmodel.UserFilter{Status: orgmodel.UserActive})
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		d.Users = users
	}
	v.Data = d
	h.render(w, r, "account.html", v)
}

func (h *handler) accountPath(r *http.Request) string {
	return "/console/accounts/" + chi.URLParam(r, "sid")
}

func (h *handler) renameAccount(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	a, err := h.svc.RenameAccount(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), r.PostFormValue("name"))
	if err != nil {
		h.refused(w, r, err, "rename", h.showAccount)
		return
	}
	h.done(w, r, h.accountPath(r), "Renamed to "+a.FriendlyName+".")
}

// transferAccount gives the account to another managed user (R-ACCT-5).
func (h *handler) transferAccount(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	to := strings.TrimSpace(r.PostFormValue("to"))
	a, err := h.svc.TransferAccount(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), to)
	if err != nil {
		h.refused(w, r, err, "transfer", h.showAccount)
		return
	}
	h.done(w, r, h.accountPath(r), fmt.Sprintf("%s is now owned by %s.", a.FriendlyName, to))
}

// accountStatus suspends, reactivates or closes the account (R-ACCT-9).
func (h *handler) accountStatus(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	status := orgmodel.AccountStatus(r.PostFormValue("status"))
	a, err := h.svc.SetAccountStatus(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), status)
	if err != nil {
		h.refused(w, r, err, "status", h.showAccount)
		return
	}
	msg := fmt.Sprintf("%s is %s.", a.FriendlyName, a.Status)
	if a.ParentSID == "" && status != orgmodel.AccountActive {
		msg += " Its subaccounts follow."
	}
	h.done(w, r, h.accountPath(r), msg)
}

// accountHIPAA sets or clears the HIPAA flag (R-HIPAA-1, R-HIPAA-2).
func (h *handler) accountHIPAA(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	on := r.PostFormValue("enabled") == "true"
	a, err := h.svc.SetHIPAA(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), on)
	if err != nil {
		h.refused(w, r, err, "hipaa", h.showAccount)
		return
	}
	msg := a.FriendlyName + " is designated for HIPAA: sessions that reach it end after 15 minutes without activity."
	if !on {
		msg = a.FriendlyName + " is no longer designated for HIPAA."
	}
	h.done(w, r, h.accountPath(r), msg)
}

// createSubaccount creates a subaccount under this account (R-HIER-1,
// R-HIER-4) and shows its auth token, once.
func (h *handler) createSubaccount(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	res, err := h.svc.CreateSubaccount(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), r.PostFormValue("name"))
	if err != nil {
		h.refused(w, r, err, "subaccount", h.showAccount)
		return
	}
	v := h.newView(w, r, "Subaccount created", "accounts")
	v.Data = res
	v.status = http.StatusCreated
	h.render(w, r, "account_created.html", v)
}

// grantAccess gives a user access to this account (R-ROLE-3, R-ACCT-8).
func (h *handler) grantAccess(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	user := orgmodel.UserSID(strings.TrimSpace(r.PostFormValue("user")))
	g, err := h.svc.GrantAccess(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), user, r.PostFormValue("role"))
	if err != nil {
		h.refused(w, r, err, "grant", h.showAccount)
		return
	}
	h.done(w, r, h.accountPath(r), fmt.Sprintf("%s has %s access.", g.UserSID, g.Role))
}

func (h *handler) revokeAccess(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	user := orgmodel.UserSID(chi.URLParam(r, "user"))
	if err := h.svc.RevokeAccess(r.Context(), me.actor, orgmodel.AccountSID(chi.URLParam(r, "sid")), user); err != nil {
		h.refused(w, r, err, "grants", h.showAccount)
		return
	}
	h.done(w, r, h.accountPath(r), fmt.Sprintf("%s no longer has access.", user))
}

// --- the mailed import confirmation (R-ACCT-3) ---

// confirmImportPage shows the owner what the link asks; answering is a
// POST, so that a mail scanner following the link changes nothing.
func (h *handler) confirmImportPage(w http.ResponseWriter, r *http.Request) {
	h.showConfirmImport(w, r, nil)
}

func (h *handler) showConfirmImport(w http.ResponseWriter, r *http.Request, v *view) {
	token := r.FormValue("token")
	req, err := h.svc.PendingImport(r.Context(), token)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Confirm moving your account", "")
	v.Data = struct {
		Req   *orgmodel.ImportRequest
		Token string
	}{req, token}
	h.render(w, r, "confirm_import.html", v)
}

func (h *handler) confirmImport(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	accept := r.PostFormValue("answer") == "confirm"
	a := orgmodel.Actor{Via: "console", RemoteAddr: clientIP(r)}
	acct, err := h.svc.ConfirmImportByToken(r.Context(), a, r.PostFormValue("token"), accept)
	if err != nil {
		h.refused(w, r, err, "answer", h.showConfirmImport)
		return
	}
	v := h.newView(w, r, "Import confirmed", "")
	msg := fmt.Sprintf("%s (%s) is now managed by its new organization, and your user moved there as a Standard user. Log in again to continue.", acct.FriendlyName, acct.SID)
	if !accept {
		v.Title = "Import refused"
		msg = fmt.Sprintf("Nothing changed: %s (%s) stays where it is.", acct.FriendlyName, acct.SID)
	}
	v.Data = msg
	h.render(w, r, "message.html", v)
}
