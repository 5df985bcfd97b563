package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestAuth_BearerTokenSelectsTheOrganization(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ name, token string }{{"none", ""}, {"unknown", "scim_" + strings.Repeat("0", 64)}, {"not a token", "non-token"}} {
		r := e.doToken(c.token, "GET", "/Users", nil)
		doc := e.must(401, r)
		assert.Equal(t, "401", doc["status"], c.name)
		assert.NotEmpty(t, doc["detail"], c.name)
		assert.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, doc["schemas"])
		assert.Equal(t, "application/scim+json", r.Header.Get("Content-Type"))
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
	}
	// Basic credentials are not a SCIM token.
	r := e.doToken("", "GET", "/Users", nil, "Authorization", "Basic dXNlcjpwYXNz")
	e.must(401, r)
	// A revoked token is refused at once.
	e.must(200, e.do("GET", "/Users", nil))
	_, err := e.svc.RevokeSCIMToken(e.ctx, orgmodel.OperatorActor("cli"), e.org, e.token)
	require.NoError(t, err)
	e.must(401, e.do("GET", "/Users", nil))
}

func TestProtocol_ContentTypeAndUnknownEndpoints(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/Users", 200}, {"GET", "/Nope", 404}, {"DELETE", "/Users", 405}, {"GET", "/Users/", 404},
		{"GET", "/Users/00919288221112222", 404}, {"GET", "/Groups/not-a-group", 404}, {"GET", "/ServiceProviderConfig", 200},
	} {
		r := e.do(c.method, c.path, nil)
		assert.Equal(t, c.status, r.Code, "%s %s: %s", c.method, c.path, r.Body)
		assert.Equal(t, "application/scim+json", r.Header.Get("Content-Type"), c.path)
		if c.status >= 400 {
			doc := r.JSON(t)
			assert.Equal(t, fmt.Sprint(c.status), doc["status"], c.path)
		}
	}
	// Okta's test client sends application/json: accepted.
	doc := e.must(201, e.do("POST", "/Users", userPost("okta@acme.test"), "Content-Type", "application/json"))
	assert.Equal(t, true, doc["active"])
}

func TestProtocol_CreateAnswersTheUserWithItsLocation(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "test.user@acme.test", "name": map[string]any{"givenName": "Test", "familyName": "User"},
		"emails": []any{map[string]any{"primary": true, "value": "test.user@acme.test", "type": "work"}}, "displayName": "Test User",
		"locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": []any{}, "password": "1mz050nq", "active": true})
	doc := e.must(201, r)
	meta := doc["meta"].(map[string]any)
	assert.Equal(t, meta["location"], r.Header.Get("Location"))
	assert.Equal(t, meta["version"], r.Header.Get("ETag"))
	assert.Equal(t, base+"/Users/"+doc["id"].(string), meta["location"])
	assert.NotContains(t, doc, "password")
	assert.Equal(t, []any{}, doc["groups"])
	// An inactive user is still found (Entra's soft delete).
	id := doc["id"].(string)
	e.must(200, e.do("PATCH", "/Users/"+id, patchOps(op("replace", "active", false))))
	list := e.must(200, e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "TEST.USER@acme.test"`), nil))
	assert.EqualValues(t, 1, list["totalResults"])
	// DELETE twice: 204, then 404.
	e.must(204, e.do("DELETE", "/Users/"+id, nil))
	e.must(404, e.do("DELETE", "/Users/"+id, nil))
	// A group's displayName is unique without regard to case.
	e.newGroup("Sales")
	doc = e.must(409, e.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "SALES"}))
	assert.Equal(t, "uniqueness", doc["scimType"])
	// A body that is not the schema.
	doc = e.must(400, e.do("POST", "/Users", map[string]any{"userName": "noschemas@acme.test"}))
	assert.Equal(t, "invalidSyntax", doc["scimType"])
	doc = e.must(400, e.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}}))
	assert.Equal(t, "invalidValue", doc["scimType"])
	doc = e.must(400, e.do("POST", "/Users", "[1,2"))
	assert.Equal(t, "invalidSyntax", doc["scimType"])
	doc = e.must(400, e.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "a@acme.test", "active": "maybe"}))
	assert.Equal(t, "invalidValue", doc["scimType"])
	// Entra's create: string booleans, nulls, the enterprise extension, a typo'd schema URI.
	doc = e.must(201, e.do("POST", "/Users", map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"},
		"externalId": "jyoung", "userName": "jyoung@acme.test", "active": "True", "addresses": nil, "displayName": "Joy Young",
		"emails": []any{map[string]any{"type": "work", "value": "jyoung@Contoso.com", "primary": "true"}},
		"meta":   map[string]any{"resourceType": "User"}, "name": map[string]any{"familyName": "Young", "givenName": "Joy"},
		"phoneNumbers": nil, "preferredLanguage": nil, "title": nil, "roles": []any{},
		ent: map[string]any{"department": nil, "manager": nil, "employeeNumber": "7"},
	}))
	assert.Equal(t, true, doc["active"])
	assert.Equal(t, true, get(doc, "emails", 0, "primary"))
	assert.Equal(t, "7", get(doc, ent, "employeeNumber"))
	assert.Contains(t, doc["schemas"], ent)
}

func TestProtocol_ETags(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test")
	r := e.do("GET", "/Users/"+id, nil)
	doc := e.must(200, r)
	tag := r.Header.Get("ETag")
	assert.Equal(t, `W/"1"`, tag)
	assert.Equal(t, tag, doc["meta"].(map[string]any)["version"])

	// If-None-Match: 304 while unchanged.
	r = e.do("GET", "/Users/"+id, nil, "If-None-Match", tag)
	assert.Equal(t, 304, r.Code)
	assert.Empty(t, r.Body)
	e.must(200, e.do("GET", "/Users/"+id, nil, "If-None-Match", `W/"99"`))

	// If-Match: 412 when stale, for every write.
	stale := `W/"99"`
	for _, c := range []struct {
		method string
		body   any
	}{
		{"PUT", userPost("ann@acme.test")}, {"PATCH", patchOps(op("replace", "title", "x"))}, {"DELETE", nil},
	} {
		doc := e.must(412, e.do(c.method, "/Users/"+id, c.body, "If-Match", stale))
		assert.Equal(t, "412", doc["status"], c.method)
	}
	r = e.do("PATCH", "/Users/"+id, patchOps(op("replace", "title", "x")), "If-Match", tag)
	e.must(200, r)
	newTag := r.Header.Get("ETag")
	assert.NotEqual(t, tag, newTag)
	e.must(412, e.do("PATCH", "/Users/"+id, patchOps(op("replace", "title", "y")), "If-Match", tag))
	e.must(200, e.do("PUT", "/Users/"+id, userPost("ann@acme.test"), "If-Match", "*"))

	// Groups too.
	g := e.newGroup("G")
	r = e.do("GET", "/Groups/"+g, nil)
	gtag := r.Header.Get("ETag")
	assert.Equal(t, 304, e.do("GET", "/Groups/"+g+"?excludedAttributes=members", nil, "If-None-Match", gtag).Code)
	e.must(412, e.do("PATCH", "/Groups/"+g, patchOps(op("replace", "displayName", "H")), "If-Match", `W/"7"`))
	e.must(204, e.do("PATCH", "/Groups/"+g, patchOps(op("replace", "displayName", "H")), "If-Match", gtag))
	e.must(412, e.do("DELETE", "/Groups/"+g, nil, "If-Match", gtag))
	e.must(204, e.do("DELETE", "/Groups/"+g, nil))
}

func TestProtocol_AttributesAndExcludedAttributes(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test", annBody())
	g := e.newGroup("G", id)
	check := func(path string, want ...string) map[string]any {
		t.Helper()
		doc := e.must(200, e.do("GET", path, nil))
		if rs, ok := doc["Resources"].([]any); ok {
			doc = rs[0].(map[string]any)
		}
		var keys []string
		for k := range doc {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, want, keys, path)
		return doc
	}
	doc := check("/Users/"+id+"?attributes=userName,name.givenName,emails.value", "id", "schemas", "userName", "name", "emails")
	assert.Equal(t, map[string]any{"givenName": "Ann"}, doc["name"])
	assert.Equal(t, []any{map[string]any{"value": "ann@acme.test"}, map[string]any{"value": "ann@home.example"}}, doc["emails"])
	doc = check("/Users?filter=userName%20eq%20%22ann@acme.test%22&attributes="+url.QueryEscape(ent+":department"), "id", "schemas", ent)
	assert.Equal(t, map[string]any{"department": "R&D"}, doc[ent])
	check("/Users/"+id+"?attributes=USERNAME,meta", "id", "schemas", "userName", "meta")
	doc = check("/Users/"+id+"?excludedAttributes=emails,groups,meta,name.formatted,"+url.QueryEscape(ent)+",id",
		"id", "schemas", "userName", "name", "displayName", "title", "externalId", "addresses", "active")
	assert.Equal(t, map[string]any{"givenName": "Ann", "familyName": "Lee"}, doc["name"])
	// Groups: excludedAttributes=members never loads them (Entra asks for it).
	check("/Groups/"+g+"?excludedAttributes=members", "id", "schemas", "displayName", "meta")
	check("/Groups?excludedAttributes=members", "id", "schemas", "displayName", "meta")
	doc = check("/Groups/"+g+"?attributes=members.value", "id", "schemas", "members")
	assert.Equal(t, []any{map[string]any{"value": id}}, doc["members"])
	// On writes too.
	doc = e.must(201, e.do("POST", "/Users?attributes=userName", userPost("x@acme.test")))
	assert.ElementsMatch(t, []string{"id", "schemas", "userName"}, keysOf(doc))
	doc = e.must(200, e.do("PATCH", "/Users/"+id+"?excludedAttributes=groups,emails", patchOps(op("replace", "title", "CEO"))))
	assert.NotContains(t, doc, "groups")
	assert.Equal(t, "CEO", doc["title"])
	// A malformed attribute list is refused.
	e.must(400, e.do("GET", "/Users?attributes="+url.QueryEscape(`emails[type eq "work"]`), nil))
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestProtocol_Discovery(t *testing.T) {
	e := newEnv(t)
	sp := e.must(200, e.do("GET", "/ServiceProviderConfig", nil))
	for _, k := range []string{"patch", "bulk", "filter", "sort", "etag"} {
		assert.Equal(t, true, sp[k].(map[string]any)["supported"], k)
	}
	assert.Equal(t, false, sp["changePassword"].(map[string]any)["supported"])
	assert.EqualValues(t, 1000, sp["bulk"].(map[string]any)["maxOperations"])
	for _, s := range sp["authenticationSchemes"].([]any) {
		for k, v := range s.(map[string]any) {
			assert.NotEqual(t, "", v, k) // no empty URIs
		}
	}
	rts := e.must(200, e.do("GET", "/ResourceTypes", nil))
	assert.EqualValues(t, 2, rts["totalResults"])
	u := e.must(200, e.do("GET", "/ResourceTypes/User", nil))
	assert.Equal(t, "/Users", u["endpoint"])
	assert.Equal(t, []any{map[string]any{"schema": ent, "required": false}}, u["schemaExtensions"])
	ss := e.must(200, e.do("GET", "/Schemas", nil))
	assert.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, ss["schemas"])
	assert.EqualValues(t, 3, ss["totalResults"])
	us := e.must(200, e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil))
	for _, a := range us["attributes"].([]any) {
		assert.NotEqual(t, "password", a.(map[string]any)["name"], "password is not served: it is never stored")
	}
	e.must(404, e.do("GET", "/Schemas/urn:nope", nil))
	e.must(404, e.do("GET", "/ResourceTypes/Nope", nil))
	for _, p := range []string{"/ServiceProviderConfig", "/Schemas", "/ResourceTypes"} {
		e.must(403, e.do("GET", p+"?filter="+url.QueryEscape(`id eq "x"`), nil))
	}
}

func TestProtocol_MeIsNotImplementedForTokens(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		doc := e.must(501, e.do(m, "/Me", nil))
		assert.Equal(t, "501", doc["status"])
	}
	e.must(501, e.do("GET", "/Me/groups", nil))
}

func TestProtocol_Search(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test", annBody())
	e.newUser("bob@acme.test")
	g := e.newGroup("Admins", id)
	search := func(path string, body map[string]any) map[string]any {
		body["schemas"] = []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}
		return e.must(200, e.do("POST", path, body))
	}
	doc := search("/Users/.search", map[string]any{"filter": `title eq "cto"`, "attributes": []string{"userName"}, "startIndex": 1, "count": 10})
	assert.EqualValues(t, 1, doc["totalResults"])
	assert.Equal(t, []any{map[string]any{"id": id, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User", ent}, "userName": "ann@acme.test"}}, doc["Resources"])
	doc = search("/Users/.search", map[string]any{"sortBy": "userName", "sortOrder": "descending", "excludedAttributes": "groups"})
	assert.Equal(t, "owner@acme.test", get(doc, "Resources", 0, "userName"))
	doc = search("/Groups/.search", map[string]any{"filter": `displayName eq "ADMINS"`, "excludedAttributes": []string{"members"}})
	assert.Equal(t, g, get(doc, "Resources", 0, "id"))
	// At the root: users, then groups; a filter on what only one type has selects that type.
	doc = search("/.search", map[string]any{"filter": `meta.resourceType eq "Group" or userName eq "bob@acme.test"`})
	assert.EqualValues(t, 2, doc["totalResults"])
	doc = search("/.search", map[string]any{})
	assert.EqualValues(t, 4, doc["totalResults"])
	doc = search("/.search", map[string]any{"startIndex": 3, "count": 5})
	assert.EqualValues(t, 2, doc["itemsPerPage"])
	assert.Equal(t, "Group", get(doc, "Resources", 1, "meta", "resourceType"))
	doc = search("/.search", map[string]any{"filter": `displayName eq "Admins"`})
	assert.EqualValues(t, 1, doc["totalResults"]) // no user has that displayName
	doc = e.must(200, e.do("GET", "/?filter="+url.QueryEscape(`title eq "cto"`), nil))
	assert.EqualValues(t, 1, doc["totalResults"])
	// Refusals.
	e.must(400, e.do("POST", "/Users/.search", map[string]any{"filter": `title eq "cto"`}))
	e.must(400, e.do("POST", "/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "sortBy": "userName"}))
	// An attribute no type has has no value anywhere (RFC 7644 §3.4.2.1).
	doc = search("/.search", map[string]any{"filter": `nobody eq 1`})
	assert.EqualValues(t, 0, doc["totalResults"])
	doc = search("/.search", map[string]any{"filter": `nobody ne 1`})
	assert.EqualValues(t, 4, doc["totalResults"])
	doc = e.must(400, e.do("POST", "/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": `title eq`}))
	assert.Equal(t, "invalidFilter", doc["scimType"])
	e.must(405, e.do("GET", "/Users/.search", nil))
}

func bulkBody(failOnErrors int, ops ...map[string]any) map[string]any {
	b := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops}
	if failOnErrors > 0 {
		b["failOnErrors"] = failOnErrors
	}
	return b
}

func TestBulk(t *testing.T) {
	e := newEnv(t)
	// The group is listed first but names the user created after it.
	doc := e.must(200, e.do("POST", "/Bulk", bulkBody(0,
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Tour Guides",
			"members": []any{map[string]any{"type": "User", "value": "bulkId:u1"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": userPost("alice@acme.test")},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": patchOps(op("replace", "title", "Guide"))},
	)))
	assert.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}, doc["schemas"])
	ops := doc["Operations"].([]any)
	require.Len(t, ops, 3)
	for _, o := range ops {
		m := o.(map[string]any)
		assert.Contains(t, []any{"200", "201"}, m["status"], m)
		assert.NotEmpty(t, m["location"])
		assert.NotEmpty(t, m["version"])
	}
	user := ops[1].(map[string]any)
	assert.Equal(t, "u1", user["bulkId"])
	uid := user["location"].(string)[len(base+"/Users/"):]
	grp := e.must(200, e.do("GET", ops[0].(map[string]any)["location"].(string)[len(base):], nil))
	assert.Equal(t, uid, get(grp, "members", 0, "value"))
	assert.Equal(t, "Guide", e.must(200, e.do("GET", "/Users/"+uid, nil))["title"])

	// failOnErrors stops after that many failures; a version is an If-Match.
	doc = e.must(200, e.do("POST", "/Bulk", bulkBody(1,
		map[string]any{"method": "PATCH", "path": "/Users/" + uid, "version": `W/"99"`, "data": patchOps(op("replace", "title", "x"))},
		map[string]any{"method": "DELETE", "path": "/Users/" + uid},
	)))
	ops = doc["Operations"].([]any)
	require.Len(t, ops, 1)
	assert.Equal(t, "412", ops[0].(map[string]any)["status"])
	e.must(200, e.do("GET", "/Users/"+uid, nil))

	// Unresolvable and circular references, bad operations: each fails alone.
	doc = e.must(200, e.do("POST", "/Bulk", bulkBody(0,
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "a", "data": map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "A", "members": []any{map[string]any{"value": "bulkId:b"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "b", "data": map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "B", "members": []any{map[string]any{"value": "bulkId:a"}}}},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:nobody", "data": patchOps(op("replace", "title", "x"))},
		map[string]any{"method": "GET", "path": "/Users"},
		map[string]any{"method": "POST", "path": "/Users", "data": userPost("nobulkid@acme.test")},
		map[string]any{"method": "DELETE", "path": "/Bulk/x"},
		map[string]any{"method": "DELETE", "path": "/Users/" + uid},
	)))
	var statuses []string
	for _, o := range doc["Operations"].([]any) {
		statuses = append(statuses, o.(map[string]any)["status"].(string))
	}
	assert.Equal(t, []string{"409", "409", "409", "400", "400", "400", "204"}, statuses)

	// Limits: too many operations or too large a payload is 413.
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
	}
	doc = e.must(413, e.do("POST", "/Bulk", bulkBody(0, many...)))
	assert.Equal(t, "413", doc["status"])
	big := bytes.Repeat([]byte(" "), 1<<20+1)
	e.must(413, e.do("POST", "/Bulk", big))
	e.must(400, e.do("POST", "/Bulk", map[string]any{"Operations": []any{}}))
}

// TestErrors_NoInternalText: an unexpected failure answers 500 with a
// reference, never the underlying error.
func TestErrors_NoInternalText(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test")
	_ = id
	require.NoError(t, e.db.Close())
	r := e.do("GET", "/Users", nil)
	doc := e.must(500, r)
	assert.Regexp(t, `^internal error \(reference [0-9a-f]{16}\)$`, doc["detail"])
	b, _ := json.Marshal(doc)
	assert.NotContains(t, strings.ToLower(string(b)), "sql")
}

// Writes without If-Match never fail because another write to the same
// user came first: a PATCH is applied to the user as it is when written
// (every one of them counts), a PUT replaces whatever is there. Both
// databases, 8 clients at once on one user.
func TestConcurrentWritesWithoutIfMatchAllApply(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			e := newEnvOn(t, db.open(t))
			id := e.newUser("ann@acme.test")
			const clients, each = 8, 6
			codes := make(chan string, clients*each)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range each {
						method, body := "PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"type":"other","value":"c`+strconv.Itoa(c)+`n`+strconv.Itoa(n)+`@x.test"}]}]}`
						if n == each-1 && c%4 == 0 {
							method, body = "PUT", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test","displayName":"Ann `+strconv.Itoa(c)+`"}`
						}
						req := httptest.NewRequest(method, "http://orgd.test/Users/"+id, strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+e.token)
						req.Header.Set("Content-Type", "application/scim+json")
						rec := httptest.NewRecorder()
						e.h.ServeHTTP(rec, req)
						codes <- fmt.Sprintf("%s %d %s", method, rec.Code, strings.TrimSpace(rec.Body.String()[:min(200, rec.Body.Len())]))
					}
				}()
			}
			wg.Wait()
			close(codes)
			for c := range codes {
				require.Regexp(t, `^(PATCH|PUT) 200 `, c)
			}
			r := e.do("GET", "/Users/"+id, nil)
			e.must(200, r)
			assert.Equal(t, fmt.Sprintf(`W/"%d"`, 1+clients*each), r.Header.Get("ETag"), "every write applied, one after another")
		})
	}
}

// TestConcurrentCreatesOfOnePersonOneWins: clients racing to create the
// same person (SQLite's batches of writes, PostgreSQL's concurrent
// transactions, where the unique index on emails decides a race the
// service's check cannot see): exactly one gets 201 and every other the 409
// an identity provider expects (uniqueness, R-USER-2), never a 500.
func TestConcurrentCreatesOfOnePersonOneWins(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			e := newEnvOn(t, db.open(t))
			const clients, people = 8, 5
			codes := make(chan string, clients*people)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for p := range people {
						body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Person` + strconv.Itoa(p) + `@acme.test"}`
						req := httptest.NewRequest("POST", "http://orgd.test/Users", strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+e.token)
						req.Header.Set("Content-Type", "application/scim+json")
						rec := httptest.NewRecorder()
						e.h.ServeHTTP(rec, req)
						codes <- fmt.Sprintf("%d %d %s", p, rec.Code, strings.TrimSpace(rec.Body.String()))
					}
				}()
			}
			close(start)
			wg.Wait()
			close(codes)
			created := map[string]int{}
			for c := range codes {
				p, rest, _ := strings.Cut(c, " ")
				if strings.HasPrefix(rest, "201 ") {
					created[p]++
					continue
				}
				require.Regexp(t, `^409 .*"scimType":"uniqueness"`, rest)
				require.Contains(t, rest, `"detail":"R-USER-2`)
			}
			for p := range people {
				assert.Equal(t, 1, created[strconv.Itoa(p)], "person %d is created once", p)
			}
		})
	}
}
