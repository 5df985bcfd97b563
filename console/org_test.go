package console_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestOrg_Settings: rename, second factor requirement, BAA (Owner only)
// and the Owner transfer.
func TestOrg_Settings(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	admin := e.member(r.OrgSID, "admin@acme.test", orgmodel.RoleAdministrator)
	ob, ab := e.as(r.UserSID), e.as(admin)

	page := ab.get("/console/org")
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, text(page.body), "Managed accounts 1 of 10 (an operator raises the limit)")
	assert.NotContains(t, page.body, "Transfer the Owner role", "only the Owner is offered the transfer")
	got := ab.follow("/console/org/rename", url.Values{"name": {"Acme Corp"}})
	assert.Contains(t, text(got.body), "The organization is now called Acme Corp.")
	got = ab.follow("/console/org/mfa", url.Values{"required": {"true"}})
	assert.Contains(t, text(got.body), "A second factor is required at every password login")
	ls, err := e.svc.GetLoginSettings(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	assert.True(t, ls.RequireMFA)

	p := ab.post("/console/org/baa", url.Values{"confirm": {"yes"}})
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, refusal(p.body, "baa"), "R-ROLE-3 only the Owner may record the BAA")
	got = ob.follow("/console/org/baa", url.Values{"confirm": {"yes"}})
	assert.Contains(t, text(got.body), "BAA recorded")

	p = ob.post("/console/org/owner", url.Values{"to": {"nobody@acme.test"}})
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Contains(t, refusal(p.body, "owner"), "R-ROLE-4")
	got = ob.follow("/console/org/owner", url.Values{"to": {"admin@acme.test"}})
	assert.Contains(t, text(got.body), "admin@acme.test is now the Owner")
	assert.Contains(t, text(got.body), "Owner admin@acme.test")
}

// TestOrg_Merge: the preflight shows rule by rule what passes and what
// blocks (R-MERGE-2..4, R-HIER-3) and changes nothing; a blocked merge is
// refused; once the preflight passes the merge moves everything
// (R-MERGE-5). A candidate whose Owner is not on a verified domain of the
// prime is not found (R-MERGE-3).
func TestOrg_Merge(t *testing.T) {
	e := newEnv(t)
	cand := e.signup("cand@acme.test")
	prime := e.signup("owner@acme.test")
	stranger := e.signup("x@stranger.test")
	b := e.as(prime.UserSID)

	// Without a verified domain of its own the prime cannot merge (R-MERGE-2).
	p := b.get("/console/org/merge?candidate=" + string(cand.OrgSID))
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "merge"), "R-MERGE-2")
	assert.Contains(t, refusal(p.body, "merge"), "Verify a domain of this organization first")
	e.verify(prime.OrgSID, "acme.test")
	e.verify(cand.OrgSID, "cand.test")

	// A stranger's organization and a missing one look the same (R-MERGE-3).
	pStranger := b.get("/console/org/merge?candidate=" + string(stranger.OrgSID))
	missing := "OR" + strings.Repeat("0", 32)
	pMissing := b.get("/console/org/merge?candidate=" + missing)
	assert.Equal(t, http.StatusNotFound, pStranger.status)
	assert.Equal(t, http.StatusNotFound, pMissing.status)
	assert.Contains(t, refusal(pStranger.body, "merge"), "R-MERGE-3")
	assert.Equal(t, strings.ReplaceAll(refusal(pStranger.body, "merge"), string(stranger.OrgSID), "X"),
		strings.ReplaceAll(refusal(pMissing.body, "merge"), missing, "X"))
	assert.NotContains(t, pStranger.body, "x@stranger.test")
	p = b.get("/console/org/merge?candidate=" + string(prime.OrgSID))
	assert.Contains(t, refusal(p.body, "merge"), "R-MERGE-1")

	// The candidate still has a verified domain: R-MERGE-4 blocks.
	before := len(e.audit(prime.OrgSID, ""))
	p = b.get("/console/org/merge?candidate=" + string(cand.OrgSID))
	assert.Equal(t, http.StatusConflict, p.status)
	checks := text(p.body)
	assert.Contains(t, checks, "R-MERGE-2 passes the prime has 1 verified domains")
	assert.Contains(t, checks, "R-MERGE-3 passes the candidate's Owner cand@acme.test has an email on acme.test")
	assert.Contains(t, checks, "R-MERGE-4 blocks the candidate still has verified domains [cand.test]; remove them first")
	assert.Contains(t, checks, "R-HIER-3 passes")
	assert.Contains(t, checks, "The merge is blocked")
	assert.NotContains(t, p.body, `method="post" action="/console/org/merge"`, "a blocked preflight offers the merge")
	assert.Equal(t, before, len(e.audit(prime.OrgSID, "")), "the preflight changed something")
	// Posting the merge anyway is refused by the same rule, with what to do.
	p = b.post("/console/org/merge", url.Values{"candidate": {string(cand.OrgSID)}, "confirm": {"yes"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, refusal(p.body, "merge"), "R-MERGE-4")
	assert.Contains(t, refusal(p.body, "merge"), "removes the candidate's verified domains first")

	// The candidate's Owner removes its domain; the preflight passes; merge.
	require.NoError(t, e.svc.RemoveDomain(e.ctx, orgmodel.Actor{UserSID: cand.UserSID}, cand.OrgSID, "cand.test"))
	p = b.get("/console/org/merge?candidate=" + string(cand.OrgSID))
	assert.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, text(p.body), "R-MERGE-4 passes the candidate has no verified domains")
	assert.Contains(t, p.body, `<input type="hidden" name="candidate" value="`+string(cand.OrgSID)+`">`)
	got := b.follow("/console/org/merge", url.Values{"candidate": {string(cand.OrgSID)}, "confirm": {"yes"}})
	assert.Contains(t, text(got.body), string(cand.OrgSID)+" is merged into this organization: 1 account and 1 user moved")
	u, err := e.svc.GetUser(e.ctx, e.op, prime.OrgSID, cand.UserSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, u.Role)
	assert.Contains(t, b.get("/console/accounts").body, string(cand.AccountSID))
}

// TestAudit: the log is filtered by actor, action, target and time, paged,
// and exported as CSV (streamed, every event of the filter, with cells a
// spreadsheet would run neutralised).
func TestAudit(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verify(r.OrgSID, "acme.test")
	admin := e.member(r.OrgSID, "admin@acme.test", orgmodel.RoleAdministrator)
	b := e.as(admin)
	for i := range 60 {
		b.follow("/console/org/rename", url.Values{"name": {"=HYPERLINK(\"https://evil.test\",\"x\") " + strings.Repeat("i", i%3+1)}})
	}
	b.follow("/console/accounts/"+string(r.AccountSID)+"/rename", url.Values{"name": {"Renamed"}})

	page := b.get("/console/audit")
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, "/console/audit?before=", "50 events and more: a link to older ones")
	assert.Contains(t, text(page.body), "account.rename "+string(r.AccountSID))

	f := b.get("/console/audit?action=account.&actor=" + string(admin))
	body := text(f.body)
	assert.Contains(t, body, "account.rename")
	assert.NotContains(t, body, "org.rename")
	assert.NotContains(t, f.body, "before=", "one event: no older page")
	f = b.get("/console/audit?target=" + string(r.AccountSID))
	assert.Contains(t, text(f.body), "account.rename")
	f = b.get("/console/audit?since=2000-01-01&until=2000-01-02")
	assert.Contains(t, text(f.body), "No events match.")
	f = b.get("/console/audit?since=yesterday")
	assert.Equal(t, http.StatusBadRequest, f.status)
	assert.Contains(t, refusal(f.body, "filter"), `since "yesterday" is not a date and time`)

	exp := b.get("/console/audit.csv?action=org.rename")
	require.Equal(t, http.StatusOK, exp.status)
	assert.Equal(t, "text/csv; charset=utf-8", exp.header.Get("Content-Type"))
	assert.Contains(t, exp.header.Get("Content-Disposition"), "attachment")
	rows, err := csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 61, "a header and every org.rename event, across the export's batches")
	assert.Equal(t, []string{"seq", "sid", "at", "actor", "via", "remote_addr", "action", "target", "before", "after"}, rows[0])
	for _, row := range rows[1:] {
		assert.Equal(t, "org.rename", row[6])
		assert.Equal(t, string(admin), row[3])
		for _, cell := range row {
			if cell != "" {
				assert.NotContains(t, "=+-@\t\r", cell[:1], "a cell starts like a formula: %q", cell)
			}
		}
	}

	// Over 500 events the export reads more than one batch.
	for i := range 520 {
		_, err := e.svc.RenameOrg(e.ctx, orgmodel.Actor{UserSID: admin, Via: "console"}, r.OrgSID, "-"+strings.Repeat("x", i%5+1))
		require.NoError(t, err)
	}
	exp = b.get("/console/audit.csv?action=org.rename")
	rows, err = csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 581)
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		assert.False(t, seen[row[0]], "event %s exported twice", row[0])
		seen[row[0]] = true
	}
}
