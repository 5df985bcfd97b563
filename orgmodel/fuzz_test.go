package orgmodel_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// The fuzz targets below run their seed corpus (the f.Add calls and
// testdata/fuzz/…) in every go test; `make fuzz` runs each for FUZZTIME.

// domainSeeds are what people type into a domain field.
var domainSeeds = []string{
	"corp.example", "Corp.Example", "www.corp.example", "https://corp.example/", "corp.example.",
	"corp.example:443", "bücher.test", "xn--bcher-kva.test", "localhost", "127.0.0.1", "gmail.com",
	"a..b", "-a.b", "a-.b", "a.b-", "x@corp.example", " corp.example", "corp.example/x", "1.2.3.4.5",
	strings.Repeat("a", 63) + ".test", strings.Repeat("a", 64) + ".test", strings.Repeat("a.", 127) + "b",
}

// FuzzNormalizeDomain: whatever NormalizeDomain accepts is a bare,
// lower-case ASCII name that it accepts again unchanged (idempotent), with
// two labels or more of at most 63 letters, digits and inner hyphens, and
// a refusal is always R-DOM-2 naming the field. Nothing panics.
func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range domainSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := orgmodel.NormalizeDomain("domain", s)
		if err != nil {
			var re *orgmodel.RuleError
			require.True(t, errors.As(err, &re), "%q: not a RuleError: %v", s, err)
			require.Equal(t, "R-DOM-2", re.Rule, "%q", s)
			require.Equal(t, orgmodel.KindInvalid, re.Kind, "%q", s)
			require.Equal(t, "domain", re.Field, "%q", s)
			require.NotEmpty(t, re.Msg)
			return
		}
		require.Equal(t, strings.ToLower(s), d, "only case is folded")
		require.LessOrEqual(t, len(d), orgmodel.MaxDomainLen, "%q", s)
		again, err := orgmodel.NormalizeDomain("domain", d)
		require.NoError(t, err, "%q normalised to %q, which is refused", s, d)
		require.Equal(t, d, again)
		labels := strings.Split(d, ".")
		require.GreaterOrEqual(t, len(labels), 2, "%q", d)
		require.False(t, strings.HasPrefix(d, "www."), "%q", d)
		for _, l := range labels {
			require.NotEmpty(t, l, "%q", d)
			require.LessOrEqual(t, len(l), 63, "%q", d)
			require.NotEqual(t, '-', rune(l[0]), "%q", d)
			require.NotEqual(t, '-', rune(l[len(l)-1]), "%q", d)
			for _, c := range l {
				require.True(t, c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-', "%q has %q", d, c)
			}
		}
		// R-DOM-2's common mail list is applied on the normalised form.
		_, err = orgmodel.CheckRegistrableDomain("domain", s)
		require.Equal(t, orgmodel.IsCommonMailDomain(d), err != nil, "%q: %v", s, err)
	})
}

// FuzzNormalizeEmail: an accepted address is one bare address whose domain
// NormalizeDomain accepts, stable under a second normalisation.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"alice@corp.example", "Alice@CORP.example", "Alice <a@corp.example>", "a@b@corp.example",
		"a@localhost", `"a b"@corp.example`, "a@corp.example,b@corp.example", "ä@corp.example", "a@bücher.test", "@corp.example", "a@"} {
		f.Add(s)
	}
	for _, d := range domainSeeds {
		f.Add("x@" + d)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := orgmodel.NormalizeEmail("email", s)
		if err != nil {
			var re *orgmodel.RuleError
			require.True(t, errors.As(err, &re), "%q: not a RuleError: %v", s, err)
			require.Equal(t, orgmodel.KindInvalid, re.Kind)
			require.Equal(t, "email", re.Field)
			return
		}
		require.LessOrEqual(t, len(e), orgmodel.MaxEmailLen)
		again, err := orgmodel.NormalizeEmail("email", e)
		require.NoError(t, err, "%q normalised to %q, which is refused", s, e)
		require.Equal(t, e, again)
		at := strings.LastIndexByte(e, '@')
		require.Positive(t, at)
		d, err := orgmodel.NormalizeDomain("d", e[at+1:])
		require.NoError(t, err)
		require.Equal(t, d, e[at+1:])
		require.Equal(t, orgmodel.EmailDomain(e), d)
		require.True(t, strings.EqualFold(s, e), "%q became %q", s, e)
	})
}

// importEnv is an organization with bulk import enabled and a verified
// domain, on a real SQLite file.
type importEnv struct {
	svc  *orgmodel.Service
	org  orgmodel.OrgSID
	acct orgmodel.AccountSID
	op   orgmodel.Actor
}

func newImportEnv(t testing.TB) *importEnv {
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	z := &dnsZone{txt: map[string][]string{}}
	c := &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "https://orgd.test", Hasher: password.Fast, Resolver: z, Now: c.Now})
	op := orgmodel.OperatorActor("cli")
	ctx := context.Background()
	r, err := svc.SignUp(ctx, op, orgmodel.SignUpInput{Email: "owner@acme.test", Password: pw, EmailVerified: true})
	require.NoError(t, err)
	d, err := svc.AddDomain(ctx, op, r.OrgSID, "acme.test")
	require.NoError(t, err)
	z.set(d.TXTName, d.TXTValue)
	_, err = svc.VerifyDomain(ctx, op, r.OrgSID, "acme.test")
	require.NoError(t, err)
	_, err = svc.EnableBulkImport(ctx, op, r.OrgSID, true)
	require.NoError(t, err)
	return &importEnv{svc: svc, org: r.OrgSID, acct: r.AccountSID, op: op}
}

// FuzzImportCSV: any file either is refused whole with an error naming
// the file (never a panic), or parses into rows numbered by their line in
// increasing order with trimmed fields; importing the rows gives one
// result per row, each invited or refused with a message — never a
// database error.
func FuzzImportCSV(f *testing.F) {
	for _, s := range []string{
		"email,role\nmia@acme.test,standard\n",
		"\ufeffEmail, Role ,account\n mia@acme.test , administrator, {acct}\nnoah@gmail.com,standard\n",
		"email\n\"a\"\"b@acme.test\"\n",
		"email,role\n\"unterminated\n",
		"role,email\nstandard,x@acme.test\nowner,y@acme.test\n,\n",
		"email,email\n",
		"name\n",
		"",
		"email,role,account\nz@acme.test,standard,ACnope\nz@acme.test,standard\nZ@ACME.test,\n",
		"email\r\nr@acme.test\r\n\r\ns@acme.test",
	} {
		f.Add(s)
	}
	e := newImportEnv(f)
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.ReplaceAll(s, "{acct}", string(e.acct))
		rows, err := orgmodel.ParseImportCSV(strings.NewReader(s))
		if err != nil {
			var re *orgmodel.RuleError
			require.True(t, errors.As(err, &re), "not a RuleError: %v", err)
			require.Equal(t, orgmodel.KindInvalid, re.Kind)
			require.Equal(t, "file", re.Field)
			require.NotEmpty(t, re.Msg)
			return
		}
		require.LessOrEqual(t, len(rows), orgmodel.MaxImportRows)
		last := 1
		for _, r := range rows {
			require.Greater(t, r.Line, last, "rows are numbered by line, after the header: %+v", rows)
			last = r.Line
			for _, v := range []string{r.Email, r.Role, r.Account} {
				require.Equal(t, strings.TrimSpace(v), v)
			}
		}
		if len(rows) > 8 {
			rows = rows[:8] // the parser is the subject; a few rows exercise the import
		}
		res, err := e.svc.ImportUsers(context.Background(), e.op, e.org, rows)
		require.NoError(t, err)
		require.Len(t, res, len(rows))
		for i, r := range res {
			require.Equal(t, rows[i].Line, r.Line)
			switch r.Result {
			case "invited":
				require.NotEmpty(t, r.SID)
			case "refused":
				require.NotEmpty(t, r.Error, "%+v", r)
			default:
				t.Fatalf("row %d: result %q", r.Line, r.Result)
			}
		}
	})
}
