package scim_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets below drive the whole handler on a real SQLite file:
// whatever a client sends, the answer is never a 500 (a client's mistake
// is a 4xx), and a successful change leaves a resource that reads back.
// Their seed corpora (testdata/fuzz/…) run in every go test.

// FuzzFilterSQL: every filter the parser and compiler accept becomes SQL
// the database runs.
func FuzzFilterSQL(f *testing.F) {
	for _, c := range userFilters {
		f.Add(c.filter, false)
	}
	for _, c := range groupFilters {
		f.Add(c.filter, true)
	}
	e := newEnv(f)
	d := newDirectory(f, e)
	f.Fuzz(func(t *testing.T, filter string, onGroups bool) {
		endpoint := "/Users"
		if onGroups {
			endpoint = "/Groups"
		}
		r := d.with(t).do("GET", endpoint+"?count=5&sortBy=meta.created&filter="+url.QueryEscape(d.expand(filter)), nil)
		require.Less(t, r.Code, 500, "filter %q: %s", filter, r.Body)
		if r.Code == 200 {
			doc := r.JSON(t)
			require.Contains(t, doc, "Resources")
		}
	})
}

// patchBody builds a one-operation PatchOp body; value is raw JSON, or a
// string when it is not JSON ("" leaves the value out).
func patchBody(op, path, value string) []byte {
	o := map[string]any{"op": op}
	if path != "" {
		o["path"] = path
	}
	if value != "" {
		var v any
		if json.Unmarshal([]byte(value), &v) == nil {
			o["value"] = json.RawMessage(value)
		} else {
			o["value"] = value
		}
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{o}})
	return b
}

// FuzzPatchUser: any operation (op, path, value) on a user, applied all
// or nothing; the user always reads back.
func FuzzPatchUser(f *testing.F) {
	for _, c := range [][3]string{
		{"replace", "", `{"active":false}`},
		{"Replace", "active", `"True"`},
		{"Replace", `emails[type eq "work"].value`, `"x@acme.test"`},
		{"Add", "manager", `[{"$ref":null,"value":"US1"}]`},
		{"replace", "", `{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}`},
		{"remove", `addresses[type eq "work"].locality`, ""},
		{"add", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `{"department":"X"}`},
		{"add", "emails", `[{"value":"a@acme.test","primary":true},{"value":"b@acme.test","primary":true}]`},
		{"remove", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "US1"]`, ""},
		{"replace", "userName", `"other@acme.test"`},
		{"add", "phoneNumbers[type eq \"work\"].value", `"+1 555"`},
		{"replace", "name", `{"givenName":"B","formatted":"B C"}`},
		{"remove", "emails", `[{"value":"a@acme.test"}]`},
	} {
		f.Add(c[0], c[1], c[2])
	}
	e := newEnv(f)
	id := e.newUser("fuzz@acme.test")
	f.Fuzz(func(t *testing.T, op, path, value string) {
		e := e.with(t)
		body := patchBody(op, path, value)
		r := e.do("PATCH", "/Users/"+id, body)
		require.Less(t, r.Code, 500, "body %s: %s", body, r.Body)
		g := e.do("GET", "/Users/"+id, nil)
		require.Equal(t, 200, g.Code, "after %s: %s", body, g.Body)
	})
}

// FuzzPatchGroup: any operation on a group.
func FuzzPatchGroup(f *testing.F) {
	for _, c := range [][3]string{
		{"replace", "", `{"id":"{g}","displayName":"New"}`},
		{"Remove", "members", `[{"value":"{u}"}]`},
		{"remove", `members[value eq "{u}"]`, ""},
		{"add", "members", `[{"value":"{u}","display":"x"}]`},
		{"replace", "members", `[]`},
		{"remove", `members[display co "member"]`, ""},
		{"replace", "externalId", `"e-1"`},
		{"add", "members", `[{"value":"{g}","type":"Group"}]`},
	} {
		f.Add(c[0], c[1], c[2])
	}
	e := newEnv(f)
	u := e.newUser("member@acme.test")
	g := e.newGroup("Fuzzers", u)
	f.Fuzz(func(t *testing.T, op, path, value string) {
		e := e.with(t)
		rep := strings.NewReplacer("{g}", g, "{u}", u)
		body := patchBody(op, rep.Replace(path), rep.Replace(value))
		r := e.do("PATCH", "/Groups/"+g, body)
		require.Less(t, r.Code, 500, "body %s: %s", body, r.Body)
		got := e.do("GET", "/Groups/"+g, nil)
		require.Equal(t, 200, got.Code, "after %s: %s", body, got.Body)
	})
}
