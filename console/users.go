package console

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

type usersData struct {
	Users       []*orgmodel.User
	Invitations []*orgmodel.Invitation // pending ones
	Accounts    []*orgmodel.AccountView
	BulkImport  bool
	Results     []importRow // a bulk import's outcome, row by row
	Invited     int
	Refused     int
}

type importRow struct {
	orgmodel.ImportResult
	Fix string
}

// usersPage lists the managed users with role and status, the pending
// invitations, and the invite and bulk import forms.
func (h *handler) usersPage(w http.ResponseWriter, r *http.Request) {
	h.showUsers(w, r, nil)
}

func (h *handler) showUsers(w http.ResponseWriter, r *http.Request, v *view) {
	h.showUsersWith(w, r, v, nil)
}

func (h *handler) showUsersWith(w http.ResponseWriter, r *http.Request, v *view, results []orgmodel.ImportResult) {
	me := whoOf(r)
	ctx := r.Context()
	users, err := h.svc.ListUsers(ctx, me.actor, me.org, orgmodel.UserFilter{})
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	invs, err := h.svc.ListInvitations(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	info, err := h.svc.ShowOrg(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	accts, err := h.svc.ListAccounts(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Users", "users")
	d := &usersData{Users: users, BulkImport: info.BulkImportEnabled}
	now := h.svc.Now()
	for _, inv := range invs {
		if inv.Status == orgmodel.InvitationPending && now.Before(inv.ExpiresAt) {
			d.Invitations = append(d.Invitations, inv)
		}
	}
	for _, a := range accts {
		if a.Relation != orgmodel.RelationPending && a.Status != orgmodel.AccountClosed {
			d.Accounts = append(d.Accounts, a)
		}
	}
	for _, res := range results {
		row := importRow{ImportResult: res}
		if res.Result == "invited" {
			d.Invited++
		} else {
			d.Refused++
			row.Fix = fixes[res.Rule].text
		}
		d.Results = append(d.Results, row)
	}
	v.Data = d
	h.render(w, r, "users.html", v)
}

// invite invites a person (R-USER-7, R-DOM-3, R-USER-2); the link is
// mailed, never shown.
func (h *handler) invite(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	in := orgmodel.InviteInput{OrgSID: me.org, Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	if acct := strings.TrimSpace(r.PostFormValue("account")); acct != "" {
		role, err := orgmodel.ParseAccountRole("account_role", r.PostFormValue("account_role"))
		if err != nil {
			h.refused(w, r, err, "invite", h.showUsers)
			return
		}
		in.Accounts = []orgmodel.InviteGrant{{AccountSID: orgmodel.AccountSID(acct), Role: role}}
	}
	res, err := h.svc.InviteUser(r.Context(), me.actor, in)
	if err != nil {
		h.refused(w, r, err, "invite", h.showUsers)
		return
	}
	h.done(w, r, "/console/users", fmt.Sprintf("Invitation mailed to %s as %s; it is valid until %s.", res.Email, res.Role, res.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")))
}

func (h *handler) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	sid := orgmodel.InvitationSID(chi.URLParam(r, "sid"))
	if err := h.svc.RevokeInvitation(r.Context(), me.actor, me.org, sid); err != nil {
		h.refused(w, r, err, "invitations", h.showUsers)
		return
	}
	h.done(w, r, "/console/users", "The invitation is revoked; its link no longer works.")
}

// maxImportBytes bounds an uploaded CSV (the server caps bodies at 1 MiB).
const maxImportBytes = 1 << 20

// importUsers invites every row of an uploaded CSV (email,role[,account]),
// each checked like a single invitation (R-USER-6), and shows the result
// row by row.
func (h *handler) importUsers(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	rows, err := h.importRows(r)
	if err != nil {
		h.refused(w, r, err, "import", h.showUsers)
		return
	}
	results, err := h.svc.ImportUsers(r.Context(), me.actor, me.org, rows)
	if err != nil && len(results) == 0 {
		h.refused(w, r, err, "import", h.showUsers)
		return
	}
	var v *view
	if err != nil { // the database failed midway: the rows so far stand
		v = &view{Err: h.refuse(r, err, "import")}
	}
	h.showUsersWith(w, r, v, results)
}

func (h *handler) importRows(r *http.Request) ([]orgmodel.ImportRow, error) {
	if err := r.ParseMultipartForm(maxImportBytes); err != nil {
		return nil, orgmodel.Invalid("file", "the upload could not be read; choose a CSV file of at most 1 MiB")
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		// A pasted CSV works too, for people without a file at hand.
		if text := r.FormValue("csv"); strings.TrimSpace(text) != "" {
			return orgmodel.ParseImportCSV(strings.NewReader(text))
		}
		return nil, orgmodel.Invalid("file", "choose a CSV file (header email,role[,account]) or paste its lines")
	}
	defer f.Close()
	return orgmodel.ParseImportCSV(io.LimitReader(f, maxImportBytes))
}

type userData struct {
	User     *orgmodel.User
	Grants   []*orgmodel.Grant
	IsOwner  bool // the viewer is the Owner
	Self     bool
	Accounts map[orgmodel.AccountSID]string
}

// userPage shows one managed user and what can be done to them. A user of
// another organization is the same 404 as a missing one.
func (h *handler) userPage(w http.ResponseWriter, r *http.Request) {
	h.showUser(w, r, nil)
}

func (h *handler) showUser(w http.ResponseWriter, r *http.Request, v *view) {
	me := whoOf(r)
	ctx := r.Context()
	u, err := h.svc.GetUser(ctx, me.actor, me.org, orgmodel.UserSID(chi.URLParam(r, "sid")))
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	grants, err := h.svc.ListGrants(ctx, me.actor, me.org, orgmodel.GrantFilter{UserSID: u.SID})
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	accts, err := h.svc.ListAccounts(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	names := map[orgmodel.AccountSID]string{}
	for _, a := range accts {
		names[a.SID] = a.FriendlyName
	}
	v = h.fill(w, r, v, u.Email, "users")
	v.Data = &userData{User: u, Grants: grants, IsOwner: me.user.Role == orgmodel.RoleOwner, Self: u.SID == me.user.SID, Accounts: names}
	h.render(w, r, "user.html", v)
}

func (h *handler) userPath(r *http.Request) string { return "/console/users/" + chi.URLParam(r, "sid") }

func (h *handler) target(r *http.Request) orgmodel.UserSID {
	return orgmodel.UserSID(chi.URLParam(r, "sid"))
}

// setRole changes a user's role between Administrator and Standard
// (R-ROLE-3, R-ROLE-4).
func (h *handler) setRole(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	u, err := h.svc.SetRole(r.Context(), me.actor, me.org, h.target(r), r.PostFormValue("role"))
	if err != nil {
		h.refused(w, r, err, "role", h.showUser)
		return
	}
	h.done(w, r, h.userPath(r), fmt.Sprintf("%s is now %s.", u.Email, u.Role))
}

// makeOwner transfers the Owner role to this user (R-ROLE-4); the old
// Owner becomes an Administrator.
func (h *handler) makeOwner(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	if _, err := h.svc.TransferOwnership(r.Context(), me.actor, me.org, string(h.target(r))); err != nil {
		h.refused(w, r, err, "owner", h.showUser)
		return
	}
	h.done(w, r, h.userPath(r), "The Owner role is transferred; you are now an Administrator.")
}

// removeUser removes a managed user (never the Owner, R-ROLE-4).
func (h *handler) removeUser(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	if err := h.svc.RemoveUser(r.Context(), me.actor, me.org, h.target(r)); err != nil {
		h.refused(w, r, err, "remove", h.showUser)
		return
	}
	h.done(w, r, "/console/users", fmt.Sprintf("%s is removed: their sessions ended and the accounts they owned passed to the Owner.", h.target(r)))
}

// resetPassword ends the user's sessions and mails a 24-hour link (R-USER-4).
func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	res, err := h.svc.ResetPassword(r.Context(), me.actor, me.org, h.target(r))
	if err != nil {
		h.refused(w, r, err, "reset-password", h.showUser)
		return
	}
	h.done(w, r, h.userPath(r), fmt.Sprintf("Password reset: %s ended, the old password no longer works, and a link valid until %s was mailed.",
		plural(res.SessionsEnded, "session"), res.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")))
}

// reset2FA removes the user's second factor (R-USER-5).
func (h *handler) reset2FA(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	u, err := h.svc.Reset2FA(r.Context(), me.actor, me.org, h.target(r))
	if err != nil {
		h.refused(w, r, err, "reset-2fa", h.showUser)
		return
	}
	h.done(w, r, h.userPath(r), u.Email+" enrols a new second factor at the next login.")
}

// setActive deactivates (ending every session, R-SCIM-2) or reactivates a user.
func (h *handler) setActive(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	u, err := h.svc.SetUserActive(r.Context(), me.actor, me.org, h.target(r), r.PostFormValue("active") == "true")
	if err != nil {
		h.refused(w, r, err, "active", h.showUser)
		return
	}
	h.done(w, r, h.userPath(r), fmt.Sprintf("%s is %s.", u.Email, u.Status))
}

// plural is "1 session", "2 sessions".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
