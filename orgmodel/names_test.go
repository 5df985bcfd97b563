package orgmodel_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestRule_DOM_2_DomainsAreEnteredBare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" = refused with R-DOM-2
	}{
		{"corp.example", "corp.example"},
		{"Corp.EXAMPLE", "corp.example"}, // upper case folded
		{"stage.corp.example", "stage.corp.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"a-b.co.uk", "a-b.co.uk"},
		{"https://corp.example", ""},
		{"corp.example/path", ""},
		{"corp.example:443", ""},
		{"www.corp.example", ""},
		{"WWW.corp.example", ""},
		{"corp.example.", ""},
		{"corp .example", ""},
		{" corp.example", ""},
		{"bücher.example", ""}, // IDN must be in its xn-- form
		{"localhost", ""},
		{"corp..example", ""},
		{"-corp.example", ""},
		{"corp-.example", ""},
		{"corp_x.example", ""},
		{"10.0.0.1", ""},
		{"user@corp.example", ""},
		{"", ""},
		{strings.Repeat("a", 64) + ".example", ""},
		{strings.Repeat("abcdefghi.", 26) + "example", ""}, // > 253
	}
	for _, tc := range tests {
		got, err := orgmodel.NormalizeDomain("domain", tc.in)
		if tc.want == "" {
			require.Error(t, err, "%q", tc.in)
			assert.Equal(t, "R-DOM-2", orgmodel.RuleOf(err), "%q: %v", tc.in, err)
			assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got)
	}
}

func TestRule_DOM_2_CommonMailDomainsCanNeverBeRegistered(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"gmail.com", "GMail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com", "mail.gmail.com"} {
		_, err := orgmodel.CheckRegistrableDomain("domain", d)
		assert.Equal(t, "R-DOM-2", orgmodel.RuleOf(err), d)
	}
	for _, d := range []string{"corp.example", "gmail.com.corp.example", "notgmail.com"} {
		_, err := orgmodel.CheckRegistrableDomain("domain", d)
		assert.NoError(t, err, d)
	}
}

// The list is maintained by hand: keep it sorted, normalised, without
// duplicates, and holding the providers everybody knows.
func TestCommonMailDomainListIsMaintained(t *testing.T) {
	t.Parallel()
	list := orgmodel.CommonMailDomains()
	assert.True(t, slices.IsSorted(list), "keep commonMailDomains sorted")
	assert.Equal(t, len(list), len(slices.Compact(slices.Clone(list))), "duplicates in commonMailDomains")
	for _, d := range list {
		n, err := orgmodel.NormalizeDomain("domain", d)
		require.NoError(t, err, d)
		assert.Equal(t, d, n)
	}
	for _, must := range []string{"gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "yahoo.com", "aol.com", "icloud.com", "protonmail.com", "gmx.de", "mail.ru", "qq.com"} {
		assert.Contains(t, list, must)
	}
}

func TestEmailsAreChecked(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"alice@corp.example":       "alice@corp.example",
		"Alice.Smith@CORP.example": "Alice.Smith@corp.example",
		"name+org2@corp.example":   "name+org2@corp.example",
	}
	for in, want := range good {
		got, err := orgmodel.NormalizeEmail("email", in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "alice", "alice@", "@corp.example", "Alice <alice@corp.example>", "alice@corp.example, bob@corp.example",
		" alice@corp.example", "alice@corp", "alice@https://corp.example", "älice@corp.example", "alice@corp.example.", strings.Repeat("a", 250) + "@c.example"} {
		_, err := orgmodel.NormalizeEmail("email", bad)
		require.Error(t, err, "%q", bad)
		assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err), "%q", bad)
		assert.Contains(t, err.Error(), "email", "the error names the field")
	}
}

func TestNamesAreChecked(t *testing.T) {
	t.Parallel()
	n, err := orgmodel.CheckName("name", "  Acme Production ")
	require.NoError(t, err)
	assert.Equal(t, "Acme Production", n)
	for _, bad := range []string{"", "   ", strings.Repeat("x", 256), "a\x00b", "line\nbreak", string([]byte{0xff, 0xfe})} {
		_, err := orgmodel.CheckName("name", bad)
		require.Error(t, err, "%q", bad)
		assert.Equal(t, orgmodel.KindInvalid, orgmodel.KindOf(err))
	}
	_, err = orgmodel.CheckName("name", strings.Repeat("é", 255))
	assert.NoError(t, err, "the limit counts characters, not bytes")
}

func TestSIDsAreChecked(t *testing.T) {
	t.Parallel()
	sid := orgmodel.NewSID(orgmodel.PrefixOrg)
	assert.True(t, orgmodel.ValidSID(orgmodel.PrefixOrg, sid))
	assert.NotEqual(t, sid, orgmodel.NewSID(orgmodel.PrefixOrg))
	for _, bad := range []string{"", "OR", "or" + sid[2:], sid[:33], sid + "0", "AC" + sid[2:], "OR" + strings.ToUpper(sid[2:]), "OR" + strings.Repeat("g", 32)} {
		assert.False(t, orgmodel.ValidSID(orgmodel.PrefixOrg, bad), bad)
		err := orgmodel.CheckSID("org", orgmodel.PrefixOrg, bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "org")
	}
}

// SIDs made one after the other sort one after the other (indexes grow at
// their end), and keep 80 random bits: many made in the same millisecond
// are all different.
func TestSIDsSortByCreation(t *testing.T) {
	t.Parallel()
	first := orgmodel.NewSID(orgmodel.PrefixUser)
	time.Sleep(2 * time.Millisecond)
	seen := map[string]bool{}
	for range 10000 {
		sid := orgmodel.NewSID(orgmodel.PrefixUser)
		require.True(t, orgmodel.ValidSID(orgmodel.PrefixUser, sid), sid)
		require.Greater(t, sid, first, "a later SID sorts after an earlier one")
		require.False(t, seen[sid], "two SIDs alike: %s", sid)
		seen[sid] = true
	}
	// The first 12 hex digits are the time in milliseconds.
	ms, err := strconv.ParseInt(first[2:14], 16, 64)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), time.UnixMilli(ms), time.Minute)
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	assert.NoError(t, orgmodel.CheckPassword("password", "Corr3ct-Horse-Battery", "a@b.example"))
	for _, bad := range []string{"short", strings.Repeat("x", 300), "a@b.example"} {
		assert.Error(t, orgmodel.CheckPassword("password", bad, "a@b.example"), bad)
	}
}
