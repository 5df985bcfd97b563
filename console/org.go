package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

type orgData struct {
	Info    *orgmodel.OrgInfo
	Login   *orgmodel.LoginSettings
	Owner   string
	IsOwner bool
	// Preflight is a merge's preflight, rule by rule, when one was run.
	Preflight *orgmodel.MergePreflight
	Candidate string
}

// orgPage shows the organization's settings, its BAA record and the merge.
func (h *handler) orgPage(w http.ResponseWriter, r *http.Request) {
	h.showOrg(w, r, nil)
}

func (h *handler) showOrg(w http.ResponseWriter, r *http.Request, v *view) {
	h.showOrgWith(w, r, v, nil)
}

func (h *handler) showOrgWith(w http.ResponseWriter, r *http.Request, v *view, pf *orgmodel.MergePreflight) {
	me := whoOf(r)
	ctx := r.Context()
	info, err := h.svc.ShowOrg(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	login, err := h.svc.GetLoginSettings(ctx, me.actor, me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	owner, err := h.svc.GetUser(ctx, me.actor, me.org, info.OwnerSID)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	v = h.fill(w, r, v, "Organization", "org")
	d := &orgData{Info: info, Login: login, Owner: owner.Email, IsOwner: me.user.SID == info.OwnerSID, Preflight: pf}
	if pf != nil {
		d.Candidate = string(pf.Candidate)
	} else {
		d.Candidate = v.Val("candidate")
	}
	v.Data = d
	h.render(w, r, "org.html", v)
}

func (h *handler) renameOrg(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	o, err := h.svc.RenameOrg(r.Context(), me.actor, me.org, r.PostFormValue("name"))
	if err != nil {
		h.refused(w, r, err, "rename", h.showOrg)
		return
	}
	h.done(w, r, "/console/org", "The organization is now called "+o.FriendlyName+".")
}

// recordBAA records the executed BAA, the organization's HIPAA
// designation (R-HIPAA-1, R-HIPAA-3).
func (h *handler) recordBAA(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	if _, err := h.svc.RecordBAA(r.Context(), me.actor, me.org); err != nil {
		h.refused(w, r, err, "baa", h.showOrg)
		return
	}
	h.done(w, r, "/console/org#baa", "The BAA is recorded. Accounts created from now on start with the HIPAA flag; existing accounts keep theirs — set it per account.")
}

func (h *handler) requireMFA(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	on := r.PostFormValue("required") == "true"
	if _, err := h.svc.SetRequireMFA(r.Context(), me.actor, me.org, on); err != nil {
		h.refused(w, r, err, "mfa", h.showOrg)
		return
	}
	msg := "A second factor is required at every password login; people without one enrol it at their next login."
	if !on {
		msg = "A second factor is no longer required (people who enrolled one keep using it)."
	}
	h.done(w, r, "/console/org", msg)
}

// transferOwner hands the Owner role to another managed user (R-ROLE-4).
func (h *handler) transferOwner(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	to := strings.TrimSpace(r.PostFormValue("to"))
	if _, err := h.svc.TransferOwnership(r.Context(), me.actor, me.org, to); err != nil {
		h.refused(w, r, err, "owner", h.showOrg)
		return
	}
	h.done(w, r, "/console/org", fmt.Sprintf("%s is now the Owner; you are an Administrator.", to))
}

// mergePreflight shows, rule by rule, what lets or stops a merge of the
// candidate into this organization (R-MERGE-2..4, R-HIER-3), changing
// nothing. A candidate whose Owner is not on one of this organization's
// verified domains is not found (R-MERGE-3).
func (h *handler) mergePreflight(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	cand := orgmodel.OrgSID(strings.TrimSpace(r.URL.Query().Get("candidate")))
	pf, err := h.svc.PreflightMerge(r.Context(), me.actor, me.org, cand)
	if err != nil {
		ref := h.refuse(r, err, "merge")
		h.showOrg(w, r, &view{Err: ref, Form: r.URL.Query(), status: ref.Status})
		return
	}
	v := &view{Form: r.URL.Query()}
	if !pf.OK {
		v.status = http.StatusConflict
	}
	h.showOrgWith(w, r, v, pf)
}

// merge merges the candidate into this organization, all or nothing
// (R-MERGE-1..7); the preflight's checks run again inside.
func (h *handler) merge(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	_ = r.ParseForm()
	cand := orgmodel.OrgSID(strings.TrimSpace(r.PostFormValue("candidate")))
	res, err := h.svc.MergeOrgs(r.Context(), me.actor, me.org, cand)
	if err != nil {
		h.refused(w, r, err, "merge", h.showOrg)
		return
	}
	h.done(w, r, "/console/org", fmt.Sprintf("%s is merged into this organization: %s and %s moved; %s ended. The candidate no longer exists; its Owner is now an Administrator here.",
		res.Candidate, plural(res.AccountsMoved, "account"), plural(res.UsersMoved, "user"), plural(res.SessionsEnded, "session")))
}
