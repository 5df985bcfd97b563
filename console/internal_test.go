package console

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orgd/orgd/orgmodel"
)

// TestCSVCell: every value a spreadsheet would evaluate as a formula
// (OWASP's list: =, +, -, @, tab, carriage return first) is neutralised;
// others pass unchanged.
func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"user.invite":                "user.invite",
		"US0123":                     "US0123",
		`{"friendly_name":"=1+1"}`:   `{"friendly_name":"=1+1"}`,
		"=HYPERLINK(\"x\")":          "'=HYPERLINK(\"x\")",
		"+1":                         "'+1",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\t=1":                       "'\t=1",
		"\r=1":                       "'\r=1",
		"'already quoted":            "'already quoted",
		" =leading space stays text": " =leading space stays text",
	} {
		assert.Equal(t, want, csvCell(in), "%q", in)
	}
}

// TestRefuseHidesInternalErrors: an unexpected error is shown only as a
// reference (500); its text goes to the log under that reference. A rule's
// refusal keeps its rule and message and gets its fix.
func TestRefuseHidesInternalErrors(t *testing.T) {
	var log bytes.Buffer
	h := &handler{log: slog.New(slog.NewJSONHandler(&log, nil))}
	r := httptest.NewRequest(http.MethodPost, "/console/accounts", nil)
	ref := h.refuse(r, errors.New(`pq: relation "accounts" does not exist at SELECT * FROM accounts`), "create")
	assert.Equal(t, http.StatusInternalServerError, ref.Status)
	assert.NotContains(t, ref.Msg, "SELECT")
	assert.NotContains(t, ref.Msg, "accounts")
	assert.Contains(t, ref.Msg, ref.Ref)
	assert.Len(t, ref.Ref, 16)
	assert.Contains(t, log.String(), ref.Ref)
	assert.Contains(t, log.String(), "SELECT")
	ref = h.refuse(r, &orgmodel.RuleError{Kind: orgmodel.KindInternal, Msg: "secret detail"}, "")
	assert.Equal(t, http.StatusInternalServerError, ref.Status)
	assert.NotContains(t, ref.Msg, "secret detail")

	ref = h.refuse(r, orgmodel.Breaks("R-USER-7", orgmodel.KindForbidden, "x.test is not a verified domain"), "invite")
	assert.Equal(t, http.StatusForbidden, ref.Status)
	assert.Equal(t, "R-USER-7", ref.Rule)
	assert.Equal(t, "x.test is not a verified domain", ref.Msg)
	assert.Equal(t, "/console/domains", ref.FixLink)
	assert.Equal(t, "invite", ref.Form)
	for kind, status := range map[orgmodel.Kind]int{
		orgmodel.KindInvalid: 400, orgmodel.KindForbidden: 403, orgmodel.KindNotFound: 404, orgmodel.KindConflict: 409,
		orgmodel.KindPrecondition: 409, orgmodel.KindUnauthenticated: 401, orgmodel.KindTooMany: 429,
	} {
		assert.Equal(t, status, h.refuse(r, &orgmodel.RuleError{Kind: kind, Msg: "m"}, "").Status, kind.String())
	}
}

// TestEveryRuleHasAFix: every rule a console command can be refused by
// says what to do.
func TestEveryRuleHasAFix(t *testing.T) {
	for _, rule := range []string{"R-HIER-1", "R-HIER-3", "R-HIER-4", "R-ROLE-3", "R-ROLE-4", "R-ACCT-1", "R-ACCT-3", "R-ACCT-5",
		"R-ACCT-6", "R-ACCT-8", "R-ACCT-9", "R-USER-2", "R-USER-6", "R-USER-7", "R-DOM-1", "R-DOM-2", "R-DOM-3", "R-DOM-4",
		"R-DOM-5", "R-SSO-1", "R-SSO-2", "R-SCIM-2", "R-MERGE-1", "R-MERGE-2", "R-MERGE-3", "R-MERGE-4", "R-HIPAA-1"} {
		assert.NotEmpty(t, fixes[rule].text, rule)
	}
}
