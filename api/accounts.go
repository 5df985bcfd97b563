package api

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// The 2010-04-01 Accounts API: subaccounts of the account whose credential
// calls (R-HIER-1, R-HIER-5).

// rfc2822 is the 2010-04-01 API's date format ("Thu, 30 Jul 2015 20:00:00 +0000").
const rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

func date2822(t time.Time) string { return t.UTC().Format(rfc2822) }

// accountJSON is Twilio's Account resource, every field of the spec.
type accountJSON struct {
	AuthToken       *string         `json:"auth_token"`
	DateCreated     string          `json:"date_created"`
	DateUpdated     string          `json:"date_updated"`
	FriendlyName    string          `json:"friendly_name"`
	OwnerAccountSid string          `json:"owner_account_sid"`
	Sid             string          `json:"sid"`
	Status          string          `json:"status"`
	SubresourceURIs subresourceURIs `json:"subresource_uris"`
	Type            string          `json:"type"`
	URI             string          `json:"uri"`
}

// subresourceURIs lists what Twilio's Account links to. orgd serves Keys;
// the others are Twilio's communication resources, listed so that clients
// reading the map find every key they expect.
type subresourceURIs struct {
	AvailablePhoneNumbers string `json:"available_phone_numbers"`
	Calls                 string `json:"calls"`
	Conferences           string `json:"conferences"`
	IncomingPhoneNumbers  string `json:"incoming_phone_numbers"`
	Notifications         string `json:"notifications"`
	OutgoingCallerIDs     string `json:"outgoing_caller_ids"`
	Recordings            string `json:"recordings"`
	Transcriptions        string `json:"transcriptions"`
	Addresses             string `json:"addresses"`
	SigningKeys           string `json:"signing_keys"`
	ConnectApps           string `json:"connect_apps"`
	SIP                   string `json:"sip"`
	AuthorizedConnectApps string `json:"authorized_connect_apps"`
	Usage                 string `json:"usage"`
	Keys                  string `json:"keys"`
	Applications          string `json:"applications"`
	ShortCodes            string `json:"short_codes"`
	Queues                string `json:"queues"`
	Messages              string `json:"messages"`
	Balance               string `json:"balance"`
}

func subresources(sid orgmodel.AccountSID) subresourceURIs {
	p := "/2010-04-01/Accounts/" + string(sid) + "/"
	return subresourceURIs{
		AvailablePhoneNumbers: p + "AvailablePhoneNumbers.json",
		Calls:                 p + "Calls.json",
		Conferences:           p + "Conferences.json",
		IncomingPhoneNumbers:  p + "IncomingPhoneNumbers.json",
		Notifications:         p + "Notifications.json",
		OutgoingCallerIDs:     p + "OutgoingCallerIds.json",
		Recordings:            p + "Recordings.json",
		Transcriptions:        p + "Transcriptions.json",
		Addresses:             p + "Addresses.json",
		SigningKeys:           p + "SigningKeys.json",
		ConnectApps:           p + "ConnectApps.json",
		SIP:                   p + "SIP.json",
		AuthorizedConnectApps: p + "AuthorizedConnectApps.json",
		Usage:                 p + "Usage.json",
		Keys:                  p + "Keys.json",
		Applications:          p + "Applications.json",
		ShortCodes:            p + "SMS/ShortCodes.json",
		Queues:                p + "Queues.json",
		Messages:              p + "Messages.json",
		Balance:               p + "Balance.json",
	}
}

// accountOut renders an account. The auth token is stored hashed, so it
// appears only when it was just created.
func accountOut(a *orgmodel.Account, token string) accountJSON {
	owner := a.ParentSID
	if owner == "" {
		owner = a.SID // a parent account's owner_account_sid is itself
	}
	out := accountJSON{
		DateCreated:     date2822(a.CreatedAt),
		DateUpdated:     date2822(a.UpdatedAt),
		FriendlyName:    a.FriendlyName,
		OwnerAccountSid: string(owner),
		Sid:             string(a.SID),
		Status:          string(a.Status),
		SubresourceURIs: subresources(a.SID),
		Type:            string(a.Type),
		URI:             "/2010-04-01/Accounts/" + string(a.SID) + ".json",
	}
	if token != "" {
		out.AuthToken = &token
	}
	return out
}

type accountList struct {
	Accounts []accountJSON `json:"accounts"`
	pageURIs
}

// parseForm reads a form body of the 2010-04-01 API.
func parseForm(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data") {
			return orgmodel.Invalid("body", "the request body must be application/x-www-form-urlencoded")
		}
	}
	if err := r.ParseForm(); err != nil {
		return invalidForm(err, "application/x-www-form-urlencoded")
	}
	return nil
}

// createAccount is POST /2010-04-01/Accounts.json: a subaccount of the
// calling account (R-HIER-1, R-HIER-4, R-HIPAA-3).
func (h *handler) createAccount(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	a := actorFrom(r.Context())
	name := r.PostForm.Get("FriendlyName")
	if name == "" {
		// Twilio's default name.
		name = "SubAccount Created at " + h.svc.Now().Format("2006-01-02 03:04 pm")
	}
	res, err := h.svc.CreateSubaccount(r.Context(), a, a.AccountSID, name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusCreated, accountOut(&res.Account, res.AuthToken))
}

// fetchAccount is GET /2010-04-01/Accounts/{AccountSid}.json: the caller's
// own account or one of its subaccounts; anything else is not found.
func (h *handler) fetchAccount(w http.ResponseWriter, r *http.Request) {
	sid := orgmodel.AccountSID(chi.URLParam(r, "AccountSid"))
	v, err := h.svc.GetAccount(r.Context(), actorFrom(r.Context()), sid)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, accountOut(&v.Account, ""))
}

var accountStatuses = []string{string(orgmodel.AccountActive), string(orgmodel.AccountSuspended), string(orgmodel.AccountClosed)}

// listAccounts is GET /2010-04-01/Accounts.json: the caller's account and
// its subaccounts (a subaccount's credential sees only itself), in SID
// order, filtered by FriendlyName and Status.
func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parsePage(q, 50, 1000, orgmodel.PrefixAccount)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	name, status := q.Get("FriendlyName"), q.Get("Status")
	if status != "" && !slices.Contains(accountStatuses, status) {
		h.writeError(w, r, invalidParam("Status", "Status must be active, suspended or closed"))
		return
	}
	a := actorFrom(r.Context())
	ctx := r.Context()
	self, err := h.svc.GetAccount(ctx, a, a.AccountSID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	subs, err := h.svc.ListSubaccounts(ctx, a, a.AccountSID, orgmodel.AccountFilter{
		FriendlyName: name, Status: orgmodel.AccountStatus(status),
		AfterSID: orgmodel.AccountSID(p.after), Limit: p.want(),
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	all := subs
	if (name == "" || self.FriendlyName == name) && (status == "" || string(self.Status) == status) && string(self.SID) > p.after {
		i, _ := slices.BinarySearchFunc(subs, self.SID, func(x *orgmodel.Account, sid orgmodel.AccountSID) int {
			return strings.Compare(string(x.SID), string(sid))
		})
		all = slices.Insert(slices.Clone(subs), i, &self.Account)
	}
	items, more := cut(p, all)
	out := accountList{Accounts: make([]accountJSON, 0, len(items))}
	for _, acct := range items {
		out.Accounts = append(out.Accounts, accountOut(acct, ""))
	}
	last := ""
	if len(items) > 0 {
		last = string(items[len(items)-1].SID)
	}
	out.pageURIs = v2010Page(r.URL.Path, url.Values{"FriendlyName": {name}, "Status": {status}}, p, len(items), more, last, r.URL.RawQuery)
	h.writeJSON(w, r, http.StatusOK, out)
}

// updateAccount is POST /2010-04-01/Accounts/{AccountSid}.json: Status
// (R-ACCT-9: closed is final; a parent's suspension or closure acts on its
// subaccounts) and FriendlyName. The status changes first, so that a
// refused status change leaves the name as it was.
func (h *handler) updateAccount(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	a := actorFrom(r.Context())
	ctx := r.Context()
	sid := orgmodel.AccountSID(chi.URLParam(r, "AccountSid"))
	_, hasName := r.PostForm["FriendlyName"]
	name := r.PostForm.Get("FriendlyName")
	if hasName {
		var err error
		if name, err = orgmodel.CheckName("FriendlyName", name); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	var v *orgmodel.AccountView
	if status := r.PostForm.Get("Status"); status != "" {
		var err error
		v, err = h.svc.SetAccountStatus(ctx, a, sid, orgmodel.AccountStatus(status))
		h.auth.InvalidateCredentials() // a closed account's credentials stop here and now
		if err != nil {
			h.writeError(w, r, h.statusRefusal(r, a, sid, err))
			return
		}
	}
	if hasName {
		var err error
		if v, err = h.svc.RenameAccount(ctx, a, sid, name); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	if v == nil {
		var err error
		if v, err = h.svc.GetAccount(ctx, a, sid); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	h.writeJSON(w, r, http.StatusOK, accountOut(&v.Account, ""))
}

// statusRefusal gives a refused status change Twilio's code: 21479 for a
// closed account, 21476 for a subaccount under an inactive parent, 21477
// for a parent changing its own status.
func (h *handler) statusRefusal(r *http.Request, a orgmodel.Actor, sid orgmodel.AccountSID, err error) error {
	switch orgmodel.RuleOf(err) {
	case "R-ACCT-9":
		v, gerr := h.svc.GetAccount(r.Context(), a, sid)
		if gerr == nil && v.Status == orgmodel.AccountClosed {
			return withCode(err, codeSubaccountClosed, 0)
		}
		return withCode(err, codeParentSuspended, 0)
	case "R-ROLE-3":
		if sid == a.AccountSID {
			if v, gerr := h.svc.GetAccount(r.Context(), a, sid); gerr == nil && v.ParentSID == "" {
				return withCode(err, codeParentStatus, 0)
			}
		}
	}
	return err
}
