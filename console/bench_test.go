package console_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// BenchmarkAccountsPage renders the accounts list of an organization at
// its default limit (10 managed accounts, 9 with a subaccount) for its
// Owner: the session check, the list, the users' emails, the template.
func BenchmarkAccountsPage(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	a := orgmodel.Actor{UserSID: r.UserSID, Via: "console"}
	for i := range 9 {
		acct, err := e.svc.CreateAccount(e.ctx, a, r.OrgSID, fmt.Sprintf("Account %d", i), "")
		require.NoError(b, err)
		_, err = e.svc.CreateSubaccount(e.ctx, a, acct.SID, "Sub")
		require.NoError(b, err)
	}
	c := e.as(r.UserSID).c
	for b.Loop() {
		resp, err := c.Get(e.srv.URL + "/console/accounts")
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
	}
}

// BenchmarkAuditCSV streams an audit log of 2,000 events as CSV (four
// batches of 500, every cell checked for formula injection).
func BenchmarkAuditCSV(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	a := orgmodel.Actor{UserSID: r.UserSID, Via: "console"}
	for i := range 2000 {
		_, err := e.svc.RenameOrg(e.ctx, a, r.OrgSID, fmt.Sprintf("=Name %d", i))
		require.NoError(b, err)
	}
	c := e.as(r.UserSID).c
	var n int64
	for b.Loop() {
		resp, err := c.Get(e.srv.URL + "/console/audit.csv")
		require.NoError(b, err)
		n, err = io.Copy(io.Discard, resp.Body)
		require.NoError(b, err)
		resp.Body.Close()
	}
	b.SetBytes(n)
}
