package scim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ann is a user with a bit of everything.
func annBody() map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", ent},
		"name":        map[string]any{"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"},
		"displayName": "Ann Lee", "title": "CTO", "externalId": "ext-ann",
		"emails": []any{
			map[string]any{"value": "ann@acme.test", "type": "work", "primary": true},
			map[string]any{"value": "ann@home.example", "type": "home"},
		},
		"addresses": []any{map[string]any{"type": "work", "locality": "Paris", "streetAddress": "1 Rue"}},
		ent:         map[string]any{"employeeNumber": "100", "department": "R&D"},
	}
}

// get reads a value from a document by keys and list indexes.
func get(doc any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return nil
			}
			doc = m[k]
		case int:
			l, ok := doc.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			doc = l[k]
		}
	}
	return doc
}

func TestPatchUser_EveryForm(t *testing.T) {
	for _, c := range []struct {
		name  string
		ops   []map[string]any
		check func(t *testing.T, doc map[string]any)
	}{
		{"Okta deactivates with a no-path replace", []map[string]any{op("replace", "", map[string]any{"active": false})},
			func(t *testing.T, d map[string]any) { assert.Equal(t, false, d["active"]) }},
		{"Entra sends the capitalised op and a string boolean", []map[string]any{op("Replace", "active", "False")},
			func(t *testing.T, d map[string]any) { assert.Equal(t, false, d["active"]) }},
		{"lower-case string boolean", []map[string]any{op("replace", "active", "false"), op("Replace", "active", "True")},
			func(t *testing.T, d map[string]any) { assert.Equal(t, true, d["active"]) }},
		{"Entra adds a simple attribute", []map[string]any{op("Add", "nickName", "Babs")},
			func(t *testing.T, d map[string]any) { assert.Equal(t, "Babs", d["nickName"]) }},
		{"Entra multi-replace with paths", []map[string]any{
			op("Replace", "displayName", "Ann B"),
			op("Replace", `emails[type eq "work"].value`, "ann.b@acme.test"),
			op("Replace", "name.givenName", "Anne"),
			op("Replace", "name.familyName", "Bee"),
			op("Replace", "externalId", "ext-2"),
			op("Replace", ent+":employeeNumber", "101"),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, "Ann B", d["displayName"])
			assert.Equal(t, "ann.b@acme.test", get(d, "emails", 0, "value"))
			assert.Equal(t, "ann@home.example", get(d, "emails", 1, "value"))
			assert.Equal(t, "Anne", get(d, "name", "givenName"))
			assert.Equal(t, "Bee", get(d, "name", "familyName"))
			assert.Equal(t, "Ann Lee", get(d, "name", "formatted"))
			assert.Equal(t, "ext-2", d["externalId"])
			assert.Equal(t, "101", get(d, ent, "employeeNumber"))
			assert.Equal(t, "R&D", get(d, ent, "department"))
		}},
		{"Entra with aadOptscim062020: no-path replace with dotted and URN keys", []map[string]any{
			op("replace", "", map[string]any{"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua", ent + ":employeeNumber": "Aklq"}),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, "Bjfe", d["displayName"])
			assert.Equal(t, "Kkom", get(d, "name", "givenName"))
			assert.Equal(t, "Unua", get(d, "name", "familyName"))
			assert.Equal(t, "Aklq", get(d, ent, "employeeNumber"))
		}},
		{"a no-path value holding an extension object", []map[string]any{
			op("add", "", map[string]any{ent: map[string]any{"costCenter": "42"}}),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, "42", get(d, ent, "costCenter"))
			assert.Equal(t, "100", get(d, ent, "employeeNumber"))
		}},
		{"a value path with no match creates the element it describes", []map[string]any{
			op("Replace", `phoneNumbers[type eq "work"].value`, "+1 555 0100"),
			op("replace", `addresses[type eq "home"].locality`, "Lyon"),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, map[string]any{"type": "work", "value": "+1 555 0100"}, get(d, "phoneNumbers", 0))
			assert.Equal(t, "Lyon", get(d, "addresses", 1, "locality"))
			assert.Equal(t, "home", get(d, "addresses", 1, "type"))
		}},
		{"the validator's address sub-attributes", []map[string]any{
			op("replace", `addresses[type eq "work"].streetAddress`, "2 Rue"),
			op("replace", `addresses[type eq "work"].locality`, "Nice"),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, []any{map[string]any{"type": "work", "locality": "Nice", "streetAddress": "2 Rue"}}, d["addresses"])
		}},
		{"Entra's legacy manager: a list on the short path", []map[string]any{
			op("Add", "manager", []any{map[string]any{"$ref": "https://x/Users/{bob}", "value": "{bob}"}}),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, "{bob}", get(d, ent, "manager", "value"))
		}},
		{"manager as a bare id on the URN path", []map[string]any{op("replace", ent+":manager", "{bob}")},
			func(t *testing.T, d map[string]any) { assert.Equal(t, "{bob}", get(d, ent, "manager", "value")) }},
		{"manager as {value}", []map[string]any{op("add", ent+":manager", map[string]any{"value": "{bob}"})},
			func(t *testing.T, d map[string]any) { assert.Equal(t, "{bob}", get(d, ent, "manager", "value")) }},
		{"manager removed by a filter on the single-valued attribute", []map[string]any{
			op("add", ent+":manager", map[string]any{"value": "{bob}"}),
			op("remove", `manager[value eq "someone-else"]`, nil),
			op("remove", `manager[value eq "{bob}"]`, nil),
		}, func(t *testing.T, d map[string]any) { assert.Nil(t, get(d, ent, "manager")) }},
		{"add appends, skips a value already there and keeps one primary", []map[string]any{
			op("add", "emails", []any{
				map[string]any{"value": "ANN@acme.test", "type": "work"},
				map[string]any{"value": "new@acme.test", "type": "other", "primary": true},
			}),
		}, func(t *testing.T, d map[string]any) {
			require.Len(t, d["emails"], 3)
			assert.Nil(t, get(d, "emails", 0, "primary"))
			assert.Equal(t, true, get(d, "emails", 2, "primary"))
		}},
		{"remove with a value list removes only those", []map[string]any{
			op("remove", "emails", []any{map[string]any{"value": "ann@home.example"}}),
		}, func(t *testing.T, d map[string]any) {
			require.Len(t, d["emails"], 1)
			assert.Equal(t, "ann@acme.test", get(d, "emails", 0, "value"))
		}},
		{"replace without a filter replaces every value", []map[string]any{
			op("replace", "emails", []any{map[string]any{"value": "only@acme.test", "type": "work"}}),
		}, func(t *testing.T, d map[string]any) {
			assert.Equal(t, []any{map[string]any{"value": "only@acme.test", "type": "work"}}, d["emails"])
		}},
		{"remove by filter", []map[string]any{op("remove", `emails[type eq "home"]`, nil)},
			func(t *testing.T, d map[string]any) { require.Len(t, d["emails"], 1) }},
		{"remove a sub-attribute of matching elements", []map[string]any{op("remove", `addresses[type eq "work"].streetAddress`, nil)},
			func(t *testing.T, d map[string]any) {
				assert.Equal(t, []any{map[string]any{"type": "work", "locality": "Paris"}}, d["addresses"])
			}},
		{"a complex replace keeps the sub-attributes it does not name", []map[string]any{op("replace", "name", map[string]any{"givenName": "B"})},
			func(t *testing.T, d map[string]any) {
				assert.Equal(t, map[string]any{"givenName": "B", "familyName": "Lee", "formatted": "Ann Lee"}, d["name"])
			}},
		{"the extension's URN as the path", []map[string]any{op("add", ent, map[string]any{"division": "EU"})},
			func(t *testing.T, d map[string]any) {
				assert.Equal(t, "EU", get(d, ent, "division"))
				assert.Equal(t, "100", get(d, ent, "employeeNumber"))
			}},
		{"the extension removed whole", []map[string]any{op("remove", ent, nil)},
			func(t *testing.T, d map[string]any) {
				assert.Nil(t, d[ent])
				assert.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, d["schemas"])
			}},
		{"the userName renamed (Entra single-valued update)", []map[string]any{op("Replace", "userName", "ann.lee@acme.test")},
			func(t *testing.T, d map[string]any) { assert.Equal(t, "ann.lee@acme.test", d["userName"]) }},
		{"Okta's id in a no-path value is ignored when it is the user's", []map[string]any{op("replace", "", map[string]any{"id": "{ann}", "title": "CEO"})},
			func(t *testing.T, d map[string]any) { assert.Equal(t, "CEO", d["title"]) }},
		{"a password sent is never stored", []map[string]any{op("replace", "", map[string]any{"password": "1mz050nq"})},
			func(t *testing.T, d map[string]any) { assert.NotContains(t, d, "password") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			bob := e.newUser("bob@acme.test")
			id := e.newUser("ann@acme.test", annBody())
			rep := func(s string) string { return replaceIDs(s, "{bob}", bob, "{ann}", id) }
			ops := rewriteOps(c.ops, rep)
			doc := e.must(200, e.do("PATCH", "/Users/"+id, patchOps(ops...)))
			c.check(t, unrep(doc, bob, id))
			// What the PATCH answered is what is stored.
			again := e.must(200, e.do("GET", "/Users/"+id, nil))
			assert.Equal(t, doc, again)
		})
	}
}

func TestPatchUser_Refusals(t *testing.T) {
	for _, c := range []struct {
		name     string
		body     any
		status   int
		scimType string
	}{
		{"remove without a path", patchOps(op("remove", "", nil)), 400, "noTarget"},
		{"remove a required attribute", patchOps(op("remove", "userName", nil)), 400, "mutability"},
		{"the id", patchOps(op("replace", "id", "US0")), 400, "mutability"},
		{"another id in a no-path value", patchOps(op("replace", "", map[string]any{"id": "US00000000000000000000000000000000"})), 400, "mutability"},
		{"the read-only groups", patchOps(op("add", "groups", []any{map[string]any{"value": "GR1"}})), 400, "mutability"},
		{"meta", patchOps(op("replace", "meta.version", "x")), 400, "mutability"},
		{"a filter that matches nothing and describes no element", patchOps(op("replace", `emails[value co "zzz"].type`, "work")), 400, "noTarget"},
		{"an unknown attribute", patchOps(op("replace", "shoeSize", "42")), 400, "invalidPath"},
		{"a malformed path", patchOps(op("replace", `emails[type eq "work"`, "x")), 400, "invalidPath"},
		{"a value filter on a simple attribute", patchOps(op("replace", `title[value eq "x"]`, "y")), 400, "invalidPath"},
		{"a wrong type", patchOps(op("replace", "active", 5)), 400, "invalidValue"},
		{"an object for a string", patchOps(op("replace", "title", map[string]any{"a": 1})), 400, "invalidValue"},
		{"two primary values", patchOps(op("replace", "emails", []any{
			map[string]any{"value": "a@acme.test", "primary": true}, map[string]any{"value": "b@acme.test", "primary": true}})), 200, ""},
		{"an unknown op", patchOps(op("frob", "title", "x")), 400, "invalidSyntax"},
		{"add without a value", patchOps(op("add", "title", nil)), 400, "invalidValue"},
		{"no schemas", map[string]any{"Operations": []any{op("replace", "title", "x")}}, 400, "invalidSyntax"},
		{"no operations", patchOps(), 400, "invalidSyntax"},
		{"not JSON", "{", 400, "invalidSyntax"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.newUser("ann@acme.test", annBody())
			before := e.must(200, e.do("GET", "/Users/"+id, nil))
			r := e.do("PATCH", "/Users/"+id, c.body)
			doc := e.must(c.status, r)
			if c.status != 200 {
				assert.Equal(t, c.scimType, doc["scimType"])
				assert.Equal(t, before, e.must(200, e.do("GET", "/Users/"+id, nil)), "a refused PATCH changes nothing")
			}
		})
	}
}

// TestPatchUser_AllOrNothing: a failing operation undoes those before it.
func TestPatchUser_AllOrNothing(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test", annBody())
	before := e.must(200, e.do("GET", "/Users/"+id, nil))
	doc := e.must(400, e.do("PATCH", "/Users/"+id, patchOps(
		op("replace", "title", "CEO"),
		op("add", "emails", []any{map[string]any{"value": "x@acme.test"}}),
		op("remove", "userName", nil),
	)))
	assert.Equal(t, "mutability", doc["scimType"])
	assert.Contains(t, doc["detail"], "operation 3")
	assert.Equal(t, before, e.must(200, e.do("GET", "/Users/"+id, nil)))
	// A rule refusal at the end undoes the whole request too.
	doc = e.must(403, e.do("PATCH", "/Users/"+id, patchOps(op("replace", "title", "CEO"), op("replace", "userName", "ann@unverified.test"))))
	assert.Regexp(t, `^R-SCIM-1: `, doc["detail"])
	assert.Equal(t, before, e.must(200, e.do("GET", "/Users/"+id, nil)))
}

func TestPatchGroup_EveryForm(t *testing.T) {
	e := newEnv(t)
	u1 := e.newUser("u1@acme.test")
	u2 := e.newUser("u2@acme.test")
	u3 := e.newUser("u3@acme.test")
	g := e.newGroup("Test SCIMv2", u1)
	members := func() []string {
		doc := e.must(200, e.do("GET", "/Groups/"+g, nil))
		var out []string
		for _, m := range doc["members"].([]any) {
			out = append(out, m.(map[string]any)["value"].(string))
		}
		return out
	}
	patch := func(ops ...map[string]any) {
		t.Helper()
		r := e.do("PATCH", "/Groups/"+g, patchOps(ops...))
		require.Equal(t, 204, r.Code, "%s", r.Body)
		require.NotEmpty(t, r.Header.Get("ETag"))
	}

	// Okta: rename with the id in the value (sent with every membership change).
	patch(op("replace", "", map[string]any{"id": g, "displayName": "Test SCIMv20"}))
	assert.Equal(t, "Test SCIMv20", e.must(200, e.do("GET", "/Groups/"+g, nil))["displayName"])
	// Okta: remove by filter, then add.
	patch(op("remove", `members[value eq "`+u1+`"]`, nil), op("add", "members", []any{map[string]any{"value": u2, "display": "u2@acme.test"}}))
	assert.Equal(t, []string{u2}, members())
	// Okta: full push with replace; [] clears.
	patch(op("replace", "members", []any{map[string]any{"value": u1}, map[string]any{"value": u3}}))
	assert.ElementsMatch(t, []string{u1, u3}, members())
	patch(op("replace", "members", []any{}))
	assert.Empty(t, members())
	// Entra: Add with "$ref": null; Remove with a value list removes only those.
	patch(op("Add", "members", []any{map[string]any{"$ref": nil, "value": u1}, map[string]any{"$ref": nil, "value": u2}, map[string]any{"value": u3}}))
	patch(op("Remove", "members", []any{map[string]any{"$ref": nil, "value": u2}}))
	assert.ElementsMatch(t, []string{u1, u3}, members())
	// A filter on display (not a set of ids) is evaluated on the members.
	patch(op("remove", `members[display co "u3@"]`, nil))
	assert.Equal(t, []string{u1}, members())
	// Several filtered ids at once.
	patch(op("add", "members", []any{map[string]any{"value": u2}, map[string]any{"value": u3}}))
	patch(op("remove", `members[value eq "`+u2+`" or value eq "`+u3+`"]`, nil))
	assert.Equal(t, []string{u1}, members())
	// Entra: Replace displayName and externalId.
	patch(op("Replace", "displayName", "renamed"), op("replace", "", map[string]any{"externalId": "8aa1a0c0"}))
	doc := e.must(200, e.do("GET", "/Groups/"+g+"?excludedAttributes=members", nil))
	assert.Equal(t, "renamed", doc["displayName"])
	assert.Equal(t, "8aa1a0c0", doc["externalId"])
	assert.NotContains(t, doc, "members")
	// remove members without a value clears them.
	patch(op("remove", "members", nil))
	assert.Empty(t, members())
	// With attributes asked for, the answer is the group (200).
	r := e.do("PATCH", "/Groups/"+g+"?attributes=displayName", patchOps(op("add", "members", []any{map[string]any{"value": u1}})))
	doc = e.must(200, r)
	assert.Equal(t, map[string]any{"id": g, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "renamed"}, doc)

	// Refusals change nothing.
	before := e.must(200, e.do("GET", "/Groups/"+g, nil))
	other := e.newGroup("Taken")
	for _, c := range []struct {
		ops      []map[string]any
		status   int
		scimType string
	}{
		{[]map[string]any{op("remove", "displayName", nil)}, 400, "mutability"},
		{[]map[string]any{op("add", "members", []any{map[string]any{"value": other, "type": "Group"}})}, 400, "invalidValue"},
		{[]map[string]any{op("add", "members", []any{map[string]any{"value": "US00000000000000000000000000000000"}})}, 400, "invalidValue"},
		{[]map[string]any{op("add", "members", []any{map[string]any{"display": "no value"}})}, 400, "invalidValue"},
		{[]map[string]any{op("replace", `members[value eq "`+u1+`"].display`, "x")}, 400, "mutability"},
		{[]map[string]any{op("add", `members[value eq "`+u1+`"]`, map[string]any{"value": u2})}, 400, "invalidPath"},
		{[]map[string]any{op("replace", "title", "x")}, 400, "invalidPath"},
		{[]map[string]any{op("add", "members", []any{map[string]any{"value": u2}}), op("replace", "displayName", "TAKEN")}, 409, "uniqueness"},
	} {
		doc := e.must(c.status, e.do("PATCH", "/Groups/"+g, patchOps(c.ops...)))
		assert.Equal(t, c.scimType, doc["scimType"], "%v", c.ops)
		assert.Equal(t, before, e.must(200, e.do("GET", "/Groups/"+g, nil)))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func replaceIDs(s string, pairs ...string) string {
	return strings.NewReplacer(pairs...).Replace(s)
}

// rewriteOps replaces placeholders in operations (through JSON).
func rewriteOps(ops []map[string]any, rep func(string) string) []map[string]any {
	var out []map[string]any
	_ = json.Unmarshal([]byte(rep(mustJSON(ops))), &out)
	return out
}

// unrep puts the placeholders back into a document, for comparisons.
func unrep(doc map[string]any, bob, ann string) map[string]any {
	var out map[string]any
	_ = json.Unmarshal([]byte(replaceIDs(mustJSON(doc), bob, "{bob}", ann, "{ann}")), &out)
	return out
}
