package console

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/orgd/orgd/orgmodel"
)

// refusal is an error as the console shows it: next to the form it
// answers (Form), or as a page of its own (Form "").
type refusal struct {
	Form    string
	Status  int
	Rule    string
	Msg     string
	Fix     string // what to do about it
	FixLink string // where to do it, a console path ("" when none)
	Ref     string // a reference for unexpected errors, logged with the cause
}

// fix is what to do about a refusal by one rule.
type fix struct{ text, link string }

// fixes says, per rule, what the person can do. The message itself comes
// from orgmodel and names the objects involved.
var fixes = map[string]fix{
	"R-HIER-1":  {"Subaccounts have no subaccounts and move with their parent: act on the parent account.", ""},
	"R-HIER-3":  {"The organization is at its limit of managed accounts (pending imports count): close one it no longer needs, or ask the operator to raise the limit (orgd org set-limit).", "/console/accounts"},
	"R-HIER-4":  {"The parent account is at its subaccount limit: the operator can upgrade it (orgd account upgrade) or raise its limit.", ""},
	"R-ROLE-1":  {"An organization has exactly one Owner: transfer the Owner role instead.", "/console/users"},
	"R-ROLE-3":  {"Your role does not allow this: ask the organization's Owner or an Administrator.", ""},
	"R-ROLE-4":  {"The Owner role changes hands only by a transfer: Users → the next Owner → Make Owner, then try again.", "/console/users"},
	"R-ACCT-1":  {"Remove the account's independent link first.", "/console/accounts"},
	"R-ACCT-3":  {"The account's owner must have an email on one of your verified domains and own no other account in their organization; verify their domain first — Domains → Verify.", "/console/domains"},
	"R-ACCT-4":  {"Create accounts here in the console: Accounts → Create account.", "/console/accounts"},
	"R-ACCT-5":  {"Pick an active managed user of this organization as the new owner — Users.", "/console/users"},
	"R-ACCT-6":  {"That account belongs to its organization's Owner: merge that organization into this one instead — Organization → Merge.", "/console/org#merge"},
	"R-ACCT-8":  {"This account is not managed by the organization: only access grants to it can change.", ""},
	"R-ACCT-9":  {"Closed is final; a subaccount reactivates only under an active parent — reactivate the parent first.", ""},
	"R-USER-2":  {"A person belongs to one organization: invite an alias (name+org2@…), or merge their organization into this one — Organization → Merge.", "/console/org#merge"},
	"R-USER-4":  {"The reset link is used up or expired: ask for a new one.", ""},
	"R-USER-5":  {"Enrol a second factor at the next login.", ""},
	"R-USER-6":  {"Bulk import is turned on per organization by the operator (orgd org enable-bulk-import); ask them, or invite people one by one.", "/console/users"},
	"R-USER-7":  {"Invite only people on a verified domain of the organization: add and verify their domain first — Domains → Verify.", "/console/domains"},
	"R-DOM-1":   {"Publish the TXT record shown for the domain at your DNS provider, wait until it is visible, then press Verify now — Domains.", "/console/domains"},
	"R-DOM-2":   {"Enter the bare domain, such as corp.example: no scheme, www., path, port or trailing dot. Common mail domains can never be registered.", "/console/domains"},
	"R-DOM-3":   {"The domain's sign-up setting is Blocked for this organization: change it — Domains → Sign-up setting.", "/console/domains"},
	"R-DOM-4":   {"Another organization already uses Auto-enrollment or enforces SSO for this domain, and only one may: choose Restricted, or ask that organization to release the domain.", "/console/domains"},
	"R-DOM-5":   {"Test the identity provider first — SSO & SCIM → Test connection — then enforce SSO.", "/console/sso"},
	"R-SSO-1":   {"Configure the organization's identity provider first — SSO & SCIM → Identity provider.", "/console/sso"},
	"R-SSO-2":   {"This person logs in through single sign-on: their password is managed at the identity provider.", ""},
	"R-SCIM-1":  {"Provisioned people must be on a verified, not Blocked, domain — Domains.", "/console/domains"},
	"R-SCIM-2":  {"The user is deactivated: reactivate them first — Users.", "/console/users"},
	"R-MERGE-1": {"Enter the SID (OR…) of another organization as the candidate.", "/console/org#merge"},
	"R-MERGE-2": {"Verify a domain of this organization first — Domains → Verify.", "/console/domains"},
	"R-MERGE-3": {"The candidate's Owner must have an email on one of your verified domains; check the organization SID with its Owner.", "/console/org#merge"},
	"R-MERGE-4": {"The candidate's Owner removes the candidate's verified domains first (their console: Domains → Remove), then run the preflight again.", "/console/org#merge"},
	"R-ORG-1":   {"An organization is removed only by merging it into another one — Organization → Merge.", "/console/org#merge"},
	"R-HIPAA-1": {"Record the organization's executed BAA first — Organization → Business Associate Agreement.", "/console/org#baa"},
	"R-HIPAA-2": {"Only the Owner or an Administrator sets the HIPAA flag.", ""},
}

// statusOf is the HTTP status of an error kind; internal errors are 500.
func statusOf(k orgmodel.Kind) int {
	switch k {
	case orgmodel.KindInvalid:
		return http.StatusBadRequest
	case orgmodel.KindForbidden:
		return http.StatusForbidden
	case orgmodel.KindNotFound:
		return http.StatusNotFound
	case orgmodel.KindConflict, orgmodel.KindPrecondition:
		return http.StatusConflict
	case orgmodel.KindUnauthenticated:
		return http.StatusUnauthorized
	case orgmodel.KindTooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// refuse is the console's one mapping from an error to what it shows: a
// RuleError keeps its rule id and message, with what to do about it; any
// other error is logged under a reference and shown only as that
// reference, never its text. form names the form the error answers.
func (h *handler) refuse(r *http.Request, err error, form string) *refusal {
	var re *orgmodel.RuleError
	if !errors.As(err, &re) || re.Kind == orgmodel.KindInternal {
		ref := newRef()
		h.log.ErrorContext(r.Context(), "console: unexpected error", "ref", ref, "path", r.URL.Path, "err", err)
		return &refusal{Form: form, Status: http.StatusInternalServerError, Ref: ref,
			Msg: "Something went wrong on our side. Try again; if it persists, give the operator this reference: " + ref + "."}
	}
	out := &refusal{Form: form, Status: statusOf(re.Kind), Rule: re.Rule, Msg: re.Msg}
	if f, ok := fixes[re.Rule]; ok {
		out.Fix, out.FixLink = f.text, f.link
	}
	if w := whoOf(r); w != nil && w.link != nil {
		out.FixLink = "" // a setup link reaches no other page
	}
	h.log.InfoContext(r.Context(), "console: refused", "path", r.URL.Path, "rule", re.Rule, "kind", re.Kind.String())
	return out
}

func newRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
