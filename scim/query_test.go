package scim_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// directory is a small organization whose users and groups exercise every
// kind of filter, and a second organization holding look-alike values.
type directory struct {
	*env
	ids    map[string]string // short name → id
	t0     time.Time
	names  map[string]string // id → userName or displayName
	token2 string
}

func newDirectory(t testing.TB, e *env) *directory {
	d := &directory{env: e, ids: map[string]string{}, names: map[string]string{}, t0: e.clock.Now()}
	d.ids["owner"] = string(e.owner)
	d.names[string(e.owner)] = "owner@acme.test"
	add := func(key, email string, attrs map[string]any) {
		e.clock.Add(time.Minute)
		id := e.newUser(email, attrs)
		d.ids[key], d.names[id] = id, email
	}
	add("bob", "bob@acme.test", map[string]any{
		"displayName": "Bob Émile", "title": "Engineer", "externalId": "EXT-bob",
		"emails":       []any{map[string]any{"value": "bob@acme.test", "type": "work", "primary": true}},
		"phoneNumbers": []any{map[string]any{"value": "+1 555 0100", "type": "work"}},
		"schemas":      []string{"urn:ietf:params:scim:schemas:core:2.0:User", ent},
		ent:            map[string]any{"employeeNumber": "200", "department": "r&d"},
	})
	add("ann", "ann@acme.test", map[string]any{
		"name":        map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"displayName": "Ann Lee", "title": "CTO", "externalId": "ext-ann", "locale": "en-US",
		"emails": []any{
			map[string]any{"value": "ann@acme.test", "type": "work", "primary": true},
			map[string]any{"value": "ann.home@example.org", "type": "home"},
		},
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User", ent},
		ent:       map[string]any{"employeeNumber": "100", "department": "R&D", "manager": map[string]any{"value": d.ids["bob"]}},
	})
	add("chloe", "chloe@acme.test", map[string]any{"displayName": "Σοφία Chloé", "nickName": "ς"})
	add("dave", "dave@acme.test", map[string]any{
		"title": "cto", "userType": "Intern",
		"emails":    []any{map[string]any{"value": "dave@acme.test", "type": "other"}},
		"addresses": []any{map[string]any{"type": "work", "locality": "Paris", "primary": true}, map[string]any{"type": "home", "locality": "Lyon"}},
	})
	e.clock.Add(time.Minute)
	e.must(200, e.do("PATCH", "/Users/"+d.ids["bob"], patchOps(op("replace", "active", false))))

	e.clock.Add(time.Minute)
	d.ids["admins"] = e.newGroup("Admins", d.ids["ann"], d.ids["bob"])
	e.must(204, e.do("PATCH", "/Groups/"+d.ids["admins"], patchOps(op("add", "externalId", "g-ext-1"))))
	d.ids["equipe"] = e.newGroup("Équipe", d.ids["chloe"])
	d.ids["ops"] = e.newGroup("ops")
	for _, k := range []string{"admins", "equipe", "ops"} {
		d.names[d.ids[k]] = map[string]string{"admins": "Admins", "equipe": "Équipe", "ops": "ops"}[k]
	}

	// Another organization with look-alike users and groups: never seen.
	r, err := e.svc.SignUp(e.ctx, orgmodel.OperatorActor("cli"), orgmodel.SignUpInput{Email: "owner@other.test", Password: "Corr3ct-Horse-Battery", EmailVerified: true})
	require.NoError(t, err)
	e.verify(r.OrgSID, "other.test")
	tok, err := e.svc.CreateSCIMToken(e.ctx, orgmodel.OperatorActor("cli"), r.OrgSID, "idp")
	require.NoError(t, err)
	d.token2 = tok.Token
	e.must(201, e.doToken(d.token2, "POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "ann@other.test", "title": "CTO", "displayName": "Ann Lee", "externalId": "ext-ann"}))
	e.must(201, e.doToken(d.token2, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Admins"}))
	return d
}

// expand replaces {key} with the id of key.
func (d *directory) expand(s string) string {
	for k, v := range d.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// query runs GET endpoint?filter=… and returns the names found, in order.
func (d *directory) query(t testing.TB, endpoint, filter, extra string) ([]string, map[string]any) {
	t.Helper()
	path := endpoint + "?count=1000&filter=" + url.QueryEscape(d.expand(filter)) + extra
	doc := d.must(200, d.do("GET", path, nil))
	var out []string
	for _, r := range doc["Resources"].([]any) {
		out = append(out, d.names[r.(map[string]any)["id"].(string)])
	}
	require.EqualValues(t, len(out), doc["totalResults"], filter)
	require.EqualValues(t, len(out), doc["itemsPerPage"], filter)
	return out, doc
}

func (d *directory) idOf(name string) string {
	for id, n := range d.names {
		if n == name {
			return id
		}
	}
	return ""
}

func names(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, n := range strings.Split(s, " ") {
		if strings.Contains(n, "@") || n == "Admins" || n == "Équipe" || n == "ops" {
			out = append(out, n)
		} else {
			out = append(out, n+"@acme.test")
		}
	}
	return out
}

// userFilters are filters and the users they select.
var userFilters = []struct{ filter, want string }{
	{`userName eq "ANN@ACME.TEST"`, "ann"},
	{`userName sw "B"`, "bob"},
	{`userName co "acme"`, "ann bob chloe dave owner"},
	{`userName ew ".TEST"`, "ann bob chloe dave owner"},
	{`userName gt "c"`, "chloe dave owner"},
	{`userName le "bob@acme.test"`, "ann bob"},
	{`userName ne "ann@acme.test"`, "bob chloe dave owner"},
	{`userName pr`, "ann bob chloe dave owner"},
	{`externalId eq "ext-ann"`, "ann"},
	{`externalId eq "EXT-ANN"`, ""}, // caseExact
	{`externalId pr`, "ann bob"},
	{`id eq "{ann}"`, "ann"},
	{`id eq "{ANN}"`, ""},
	{`active eq false`, "bob"},
	{`active ne false`, "ann chloe dave owner"},
	{`not (active eq true)`, "bob"},
	{`title eq "cto"`, "ann dave"},
	{`title pr`, "ann bob dave"},
	{`title eq null`, "chloe owner"},
	{`displayName co "émile"`, "bob"},
	{`displayName eq "σοφία CHLOÉ"`, "chloe"},
	{`nickName eq "Σ"`, "chloe"},
	{`emails.value ew "EXAMPLE.org"`, "ann"},
	{`emails co "example.org"`, "ann"},
	{`emails[type eq "work"].value eq "bob@acme.test"`, "bob"},
	{`emails[type eq "work" and value co "ann"]`, "ann"},
	{`emails[type eq "home" and value co "acme"]`, ""},
	{`emails[type eq "work"]`, "ann bob chloe owner"},
	{`emails[primary eq true]`, "ann bob chloe owner"},
	{`emails[not (type eq "work")]`, "ann dave"},
	{`emails[type eq "work" or type eq "other"] and emails[type eq "home"]`, "ann"},
	{`emails ne "ann@acme.test"`, "bob chloe dave owner"},
	{`name.givenName eq "ann"`, "ann"},
	{`name.familyName pr`, "ann"},
	{`name pr`, "ann"},
	{ent + `:department eq "r&D"`, "ann bob"},
	{ent + `:employeeNumber gt "150"`, "bob"},
	{`manager eq "{bob}"`, "ann"},
	{ent + `:manager.value eq "{bob}"`, "ann"},
	{`id eq "{ann}" and manager eq "{bob}"`, "ann"},
	{`id eq "{ann}" and manager eq "{ann}"`, ""},
	{`addresses[type eq "work" and locality eq "paris"]`, "dave"},
	{`addresses[type eq "home" and locality eq "Paris"]`, ""},
	{`phoneNumbers[type eq "work"].value sw "+1"`, "bob"},
	{`groups.value eq "{admins}"`, "ann bob"},
	{`groups eq "{equipe}"`, "chloe"},
	{`groups.display eq "ÉQUIPE"`, "chloe"},
	{`groups pr`, "ann bob chloe"},
	{`not (groups pr)`, "dave owner"},
	{`groups[display eq "ADMINS" or value eq "{equipe}"]`, "ann bob chloe"},
	{`meta.created gt "{t0+2m}"`, "chloe dave"},
	{`meta.created le "{t0+2m}"`, "ann bob owner"},
	{`meta.lastModified ge "{t0+5m}"`, "bob"},
	{`meta.resourceType eq "User"`, "ann bob chloe dave owner"},
	{`meta.resourceType eq "Group"`, ""},
	{`(title eq "cto" or title eq "ENGINEER") and not (emails[type eq "home"])`, "bob dave"},
	{`userType eq "Intern" or userName eq "owner@acme.test"`, "dave owner"},
	{`title eq "cto" and (userName sw "d" or displayName pr)`, "ann dave"},
	{`not (not (userName eq "ann@acme.test"))`, "ann"},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@acme.test"`, "bob"},
}

var groupFilters = []struct{ filter, want string }{
	{`displayName eq "admins"`, "Admins"},
	{`displayName eq "ÉQUIPE"`, "Équipe"},
	{`displayName sw "O"`, "ops"},
	{`displayName pr`, "Admins Équipe ops"},
	{`members eq "{ann}"`, "Admins"},
	{`members[value eq "{chloe}"]`, "Équipe"},
	{`members pr`, "Admins Équipe"},
	{`not (members pr)`, "ops"},
	{`members.display eq "BOB@acme.test"`, "Admins"},
	{`members ne "{ann}"`, "Équipe ops"},
	{`externalId eq "g-ext-1"`, "Admins"},
	{`externalId pr`, "Admins"},
	{`id eq "{ops}"`, "ops"},
	{`id eq "{ops}" and members eq "{ann}"`, ""},
	{`meta.resourceType eq "Group"`, "Admins Équipe ops"},
}

func (d *directory) expandTimes(s string) string {
	for i := 0; i <= 9; i++ {
		s = strings.ReplaceAll(s, fmt.Sprintf("{t0+%dm}", i), d.t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	return s
}

// TestFilter_SQL runs every filter through the handler on each database:
// the whole RFC 7644 grammar, Entra's value-path form, case-insensitive
// (Unicode) matching where the schema says so, and nothing from another
// organization.
func TestFilter_SQL(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			d := newDirectory(t, newEnvOn(t, db.open(t)))
			for _, c := range userFilters {
				got, _ := d.query(t, "/Users", d.expandTimes(c.filter), "")
				assert.ElementsMatch(t, names(c.want), got, c.filter)
			}
			for _, c := range groupFilters {
				got, _ := d.query(t, "/Groups", c.filter, "")
				assert.ElementsMatch(t, names(c.want), got, c.filter)
			}
			// The other organization sees only its own.
			doc := d.must(200, d.doToken(d.token2, "GET", "/Users?filter="+url.QueryEscape(`title eq "CTO"`), nil))
			assert.EqualValues(t, 1, doc["totalResults"])
		})
	}
}

func TestFilter_RefusedWithInvalidFilter(t *testing.T) {
	e := newEnv(t)
	for _, f := range []string{
		`title gt true`, `active gt false`, `active eq "yes"`, `bogus eq 1`, `emails[value eq 1]`, `meta.created eq "soon"`,
		`meta.version eq "1"`, `name eq "x"`, `emails[type eq "work"`, `userName zz "x"`, `password eq "x"`,
		`emails[bogus eq "x"]`, `title[value eq "x"]`, `groups.type eq "direct"`, `urn:x:y:title eq "a"`,
	} {
		r := e.do("GET", "/Users?filter="+url.QueryEscape(f), nil)
		doc := e.must(400, r)
		assert.Equal(t, "invalidFilter", doc["scimType"], f)
		assert.Equal(t, "400", doc["status"], f)
	}
	for _, f := range []string{`title eq "x"`, `members.type eq "User"`} {
		doc := e.must(400, e.do("GET", "/Groups?filter="+url.QueryEscape(f), nil))
		assert.Equal(t, "invalidFilter", doc["scimType"], f)
	}
}

// TestSort_AndPaging: a stable order across pages, missing values last
// ascending and first descending, itemsPerPage the page's size.
func TestSort_AndPaging(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			d := newDirectory(t, newEnvOn(t, db.open(t)))
			// Each expectation lists groups of equal sort keys, separated by
			// spaces; within a group (names joined by commas) the order is by id.
			for _, c := range []struct{ sort, want string }{
				{"sortBy=userName", "ann bob chloe dave owner"},
				{"sortBy=userName&sortOrder=descending", "owner dave chloe bob ann"},
				{"sortBy=title", "ann,dave bob chloe,owner"},
				{"sortBy=title&sortOrder=descending", "chloe,owner bob ann,dave"},
				{"sortBy=meta.created&sortOrder=descending", "dave chloe ann bob owner"},
				{"sortBy=name.givenName", "ann bob,chloe,dave,owner"},
				{"sortBy=emails.value", "ann bob chloe dave owner"},
				{"sortBy=externalId", "bob ann chloe,dave,owner"}, // caseExact: "EXT-bob" < "ext-ann"
				{"sortBy=active", "bob ann,chloe,dave,owner"},
			} {
				got, _ := d.query(t, "/Users", "", "&"+c.sort)
				desc := strings.Contains(c.sort, "descending")
				var want []string
				for _, grp := range strings.Split(c.want, " ") {
					tie := names(strings.ReplaceAll(grp, ",", " "))
					slices.SortFunc(tie, func(a, b string) int {
						ia, ib := d.idOf(a), d.idOf(b)
						if desc {
							ia, ib = ib, ia
						}
						return strings.Compare(ia, ib)
					})
					want = append(want, tie...)
				}
				assert.Equal(t, want, got, c.sort)
			}
			// Pages follow each other without overlap or gap.
			var all []string
			for start := 1; start <= 6; start += 2 {
				doc := d.must(200, d.do("GET", fmt.Sprintf("/Users?sortBy=userName&startIndex=%d&count=2", start), nil))
				assert.EqualValues(t, 5, doc["totalResults"])
				assert.EqualValues(t, start, doc["startIndex"])
				rs := doc["Resources"].([]any)
				assert.EqualValues(t, len(rs), doc["itemsPerPage"])
				for _, r := range rs {
					all = append(all, r.(map[string]any)["userName"].(string))
				}
			}
			assert.Equal(t, names("ann bob chloe dave owner"), all)
			// count=0 returns only the total; startIndex<1 is 1; count<0 is 0.
			doc := d.must(200, d.do("GET", "/Users?count=0", nil))
			assert.EqualValues(t, 5, doc["totalResults"])
			assert.Empty(t, doc["Resources"])
			doc = d.must(200, d.do("GET", "/Users?startIndex=-3&count=-1", nil))
			assert.EqualValues(t, 1, doc["startIndex"])
			assert.EqualValues(t, 0, doc["itemsPerPage"])
			doc = d.must(200, d.do("GET", "/Users?startIndex=99", nil))
			assert.EqualValues(t, 5, doc["totalResults"])
			assert.Equal(t, []any{}, doc["Resources"])
			for _, bad := range []string{"startIndex=x", "count=1.5", "sortOrder=up", "sortBy=groups", "sortBy=emails[type%20eq%20%22work%22]"} {
				doc := d.must(400, d.do("GET", "/Users?"+bad, nil))
				assert.Equal(t, "invalidValue", doc["scimType"], bad)
			}
		})
	}
}
