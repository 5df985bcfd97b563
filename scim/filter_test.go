package scim_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/scim2/filter-parser/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/scim"
)

// render prints an AST back in the filter grammar, strings as JSON.
func render(e filter.Expression) string {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return "(" + render(e.Left) + " " + string(e.Operator) + " " + render(e.Right) + ")"
	case *filter.NotExpression:
		return "not (" + render(e.Expression) + ")"
	case *filter.ValuePath:
		return renderAttr(e.AttributePath) + "[" + render(e.ValueFilter) + "]"
	case *filter.AttributeExpression:
		s := renderAttr(e.AttributePath) + " " + string(e.Operator)
		if e.Operator == filter.PR {
			return s
		}
		return s + " " + renderValue(e.CompareValue)
	}
	return fmt.Sprintf("<%T>", e)
}

func renderAttr(p filter.AttributePath) string {
	s := p.AttributeName
	if p.URIPrefix != nil {
		s = *p.URIPrefix + ":" + s
	}
	if p.SubAttribute != nil {
		s += "." + *p.SubAttribute
	}
	return s
}

func renderValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'e', -1, 64)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

func renderPath(p filter.Path) string {
	s := renderAttr(p.AttributePath)
	if p.ValueExpression != nil {
		s += "[" + render(p.ValueExpression) + "]"
	}
	if p.SubAttribute != nil {
		s += "." + *p.SubAttribute
	}
	return s
}

func TestParseFilter_Grammar(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`USERNAME EQ "x"`, `USERNAME eq "x"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{`title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
		// and binds tighter than or; not and grouping as written.
		{`a eq 1 or b eq 2 and c eq 3`, `(a eq 1 or (b eq 2 and c eq 3))`},
		{`(a eq 1 or b eq 2) and c eq 3`, `((a eq 1 or b eq 2) and c eq 3)`},
		{`userType eq "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and not ((emails co "example.com" or emails.value co "example.org")))`},
		{`not(active eq false)`, `not (active eq false)`},
		{`userType eq "Employee" and (emails.type eq "work")`, `(userType eq "Employee" and emails.type eq "work")`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
		// Three terms and grouping inside a value filter (scim2/filter-parser refuses both).
		{`emails[type eq "work" and value co "@x" and primary eq true]`, `emails[((type eq "work" and value co "@x") and primary eq true)]`},
		{`emails[(type eq "work") or not (value co "@x")]`, `emails[(type eq "work" or not (value co "@x"))]`},
		// Entra ID: attr[filter].sub op value.
		{`emails[type eq "work"].value eq "ann@acme.test"`, `emails[(type eq "work" and value eq "ann@acme.test")]`},
		// Escapes are decoded, \u included.
		{`displayName eq "a\"b\\c\u00e9"`, `displayName eq "a\"b\\cé"`},
		{`x eq null`, `x eq null`},
		{`x eq TRUE`, `x eq true`},
		{`x gt -1.5e3`, `x gt -1.5e+03`},
		{`x eq 42`, `x eq 42`},
		// Entra's documented example has an unquoted value.
		{`externalId eq jyoung`, `externalId eq "jyoung"`},
		{`id eq "a" and manager eq "b"`, `(id eq "a" and manager eq "b")`},
		{`members[value eq "US1"]`, `members[value eq "US1"]`},
	} {
		e, err := scim.ParseFilter(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, render(e), c.in)
	}
}

func TestParseFilter_RefusesWhatTheGrammarDoesNot(t *testing.T) {
	for _, in := range []string{
		``, `userName`, `userName eq`, `userName zz "x"`, `userName eq "x`, `(userName eq "x"`, `userName eq "x")`,
		`userName eq "x" and`, `userName eq "x" xor a eq "y"`, `emails[type eq "work"`, `emails[type eq "work"]x`,
		`emails[type eq "work"].value`, `emails[a[b eq 1]]`, `name.given.name eq "x"`, `1abc eq "x"`,
		`userName eq 01`, `userName eq "a" "b"`, `userName eq user name`, `:x eq "y"`, `not userName eq "x"`,
		`userName eq "\x"`, "userName eq \"a\x01\"", strings.Repeat("(", 40) + `a eq 1` + strings.Repeat(")", 40),
		strings.Repeat("a", 5000),
	} {
		_, err := scim.ParseFilter(in)
		assert.Error(t, err, "%q parsed", in)
	}
}

func TestParsePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`members`, `members`},
		{`name.familyName`, `name.familyName`},
		{`addresses[type eq "work"]`, `addresses[type eq "work"]`},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
		{`members[value eq "2819c223"].displayName`, `members[value eq "2819c223"].displayName`},
		{`emails[type eq "work"].value`, `emails[type eq "work"].value`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`},
		{`manager[value eq "x"]`, `manager[value eq "x"]`},
	} {
		p, err := scim.ParsePath(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, renderPath(p), c.in)
	}
	for _, in := range []string{``, `members[`, `members]`, `name.givenName[type eq "x"]`, `members[value eq "x"].`, `a b`, `emails[type eq "work"].value eq "x"`} {
		_, err := scim.ParsePath(in)
		assert.Error(t, err, "%q parsed", in)
	}
}

// FuzzParseFilter: the parser never panics, and what it accepts prints
// back to a filter it parses the same way.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `emails[type eq "work"].value eq "x"`, `not (a pr) or b lt 2.5`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := scim.ParseFilter(s)
		if err != nil {
			return
		}
		if len(render(e)) > 4096 {
			return // escapes made it longer than a filter may be
		}
		again, err := scim.ParseFilter(render(e))
		require.NoError(t, err, "render %q of %q does not parse", render(e), s)
		assert.Equal(t, render(e), render(again))
	})
}

// FuzzParsePath is FuzzParseFilter for PATCH paths.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{`members[value eq "x"]`, `emails[type eq "work"].value`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := scim.ParsePath(s)
		if err != nil {
			return
		}
		if len(renderPath(p)) > 4096 {
			return
		}
		again, err := scim.ParsePath(renderPath(p))
		require.NoError(t, err, "render %q of %q does not parse", renderPath(p), s)
		assert.Equal(t, renderPath(p), renderPath(again))
	})
}
