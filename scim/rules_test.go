package scim_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// The rules of RULES.md as a provisioning client meets them: refused with
// the SCIM error schema, the detail starting with the rule id.

func userPost(email string) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": email}
}

func requireRuleDetail(t *testing.T, doc map[string]any, rule string) {
	t.Helper()
	require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, doc["schemas"])
	assert.True(t, strings.HasPrefix(doc["detail"].(string), rule+": "), "detail %q does not start with %s", doc["detail"], rule)
}

func TestRule_SCIM_1_ProvisioningNeedsAVerifiedDomain(t *testing.T) {
	e := newEnv(t)
	// Registered but not verified: refused.
	_, err := e.svc.AddDomain(e.ctx, orgmodel.OperatorActor("cli"), e.org, "pending.test")
	require.NoError(t, err)
	for _, email := range []string{"a@pending.test", "a@never-registered.test"} {
		doc := e.must(403, e.do("POST", "/Users", userPost(email)))
		requireRuleDetail(t, doc, "R-SCIM-1")
		assert.Equal(t, "403", doc["status"])
	}
	// Nor may a user be moved onto such a domain, by PUT or PATCH.
	id := e.newUser("ok@acme.test")
	doc := e.must(403, e.do("PUT", "/Users/"+id, userPost("ok@pending.test")))
	requireRuleDetail(t, doc, "R-SCIM-1")
	doc = e.must(403, e.do("PATCH", "/Users/"+id, patchOps(op("replace", "userName", "ok@pending.test"))))
	requireRuleDetail(t, doc, "R-SCIM-1")
	// Common mail domains never (R-USER-7).
	doc = e.must(403, e.do("POST", "/Users", userPost("someone@gmail.com")))
	requireRuleDetail(t, doc, "R-USER-7")
}

func TestRule_DOM_3_ABlockedDomainRefusesProvisioning(t *testing.T) {
	e := newEnv(t)
	e.verify(e.org, "blocked.test")
	blocked := orgmodel.SignupBlocked
	_, err := e.svc.ConfigureDomain(e.ctx, orgmodel.OperatorActor("cli"), e.org, "blocked.test", orgmodel.DomainSettings{Signup: &blocked})
	require.NoError(t, err)
	doc := e.must(403, e.do("POST", "/Users", userPost("x@blocked.test")))
	requireRuleDetail(t, doc, "R-DOM-3")
	// A Bulk operation meets the same rule.
	bulk := e.must(200, e.do("POST", "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": userPost("y@blocked.test")}}}))
	res := bulk["Operations"].([]any)[0].(map[string]any)
	assert.Equal(t, "403", res["status"])
	requireRuleDetail(t, res["response"].(map[string]any), "R-DOM-3")
}

func TestRule_USER_2_AnotherOrganizationsUser(t *testing.T) {
	e := newEnv(t)
	r, err := e.svc.SignUp(e.ctx, orgmodel.OperatorActor("cli"), orgmodel.SignUpInput{Email: "boss@other.test", Password: "Corr3ct-Horse-Battery", EmailVerified: true})
	require.NoError(t, err)
	// Even with other.test verified here too, the person belongs elsewhere.
	e.verify(e.org, "other.test")
	doc := e.must(409, e.do("POST", "/Users", userPost("BOSS@other.test")))
	requireRuleDetail(t, doc, "R-USER-2")
	assert.Equal(t, "uniqueness", doc["scimType"])
	// The same userName twice in this organization: 409 uniqueness (Okta, Entra).
	e.newUser("ann@acme.test")
	doc = e.must(409, e.do("POST", "/Users", userPost("Ann@ACME.test")))
	assert.Equal(t, "uniqueness", doc["scimType"])
	assert.Equal(t, "409", doc["status"])
	// The other organization's user is invisible: the same 404 as a user that never existed.
	missing := e.must(404, e.do("GET", "/Users/"+orgmodel.NewSID("US"), nil))
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		var body any
		switch m {
		case "PUT":
			body = userPost("boss@other.test")
		case "PATCH":
			body = patchOps(op("replace", "active", false))
		}
		doc := e.must(404, e.do(m, "/Users/"+string(r.UserSID), body))
		assert.Equal(t, strings.ReplaceAll(missing["detail"].(string), missingID(missing), string(r.UserSID)), doc["detail"], m)
	}
	doc = e.must(200, e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "boss@other.test"`), nil))
	assert.EqualValues(t, 0, doc["totalResults"])
	// Nor can it be made a member of a group here.
	doc = e.must(400, e.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "G", "members": []any{map[string]any{"value": string(r.UserSID)}}}))
	assert.Equal(t, "invalidValue", doc["scimType"])
}

func missingID(doc map[string]any) string {
	f := strings.Fields(doc["detail"].(string))
	return f[1]
}

func TestRule_ROLE_4_TheOwnerCannotBeDeprovisioned(t *testing.T) {
	e := newEnv(t)
	owner := string(e.owner)
	for _, c := range []struct {
		method string
		body   any
	}{
		{"DELETE", nil},
		{"PATCH", patchOps(op("replace", "active", false))},
		{"PATCH", patchOps(op("Replace", "active", "False"))},
		{"PUT", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "owner@acme.test", "active": false}},
	} {
		doc := e.must(400, e.do(c.method, "/Users/"+owner, c.body))
		requireRuleDetail(t, doc, "R-ROLE-4")
		assert.Equal(t, "mutability", doc["scimType"], c.method)
	}
	doc := e.must(200, e.do("GET", "/Users/"+owner, nil))
	assert.Equal(t, true, doc["active"])
	// Bulk reaches the same rule.
	bulk := e.must(200, e.do("POST", "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{map[string]any{"method": "DELETE", "path": "/Users/" + owner}}}))
	res := bulk["Operations"].([]any)[0].(map[string]any)
	assert.Equal(t, "400", res["status"])
	requireRuleDetail(t, res["response"].(map[string]any), "R-ROLE-4")
}

// sessionLive reports whether the session of token is still usable.
func (e *env) sessionLive(token string) bool {
	_, _, err := e.svc.Session(e.ctx, token)
	return err == nil
}

func TestRule_SCIM_2_DeactivateAndDeleteEndEverySession(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name   string
		method string
		body   any
	}{
		{"Okta deactivates", "PATCH", patchOps(op("replace", "", map[string]any{"active": false}))},
		{"Entra deactivates", "PATCH", patchOps(op("Replace", "active", "False"))},
		{"a PUT deactivates", "PUT", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "x@acme.test", "active": false}},
		{"a DELETE deprovisions", "DELETE", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := e.newUser("x@acme.test")
			var tokens []string
			for range 2 {
				tok, _, err := e.svc.StartSession(e.ctx, orgmodel.Actor{Via: "sso"}, orgmodel.UserSID(id), "sso")
				require.NoError(t, err)
				tokens = append(tokens, tok)
			}
			require.True(t, e.sessionLive(tokens[0]))
			r := e.do(c.method, "/Users/"+id, c.body)
			require.Less(t, r.Code, 300, "%s", r.Body)
			for _, tok := range tokens {
				assert.False(t, e.sessionLive(tok), "a session survived")
			}
			// A deactivated user cannot start a new one either.
			if c.method != "DELETE" {
				_, _, err := e.svc.StartSession(e.ctx, orgmodel.Actor{Via: "sso"}, orgmodel.UserSID(id), "sso")
				assert.Equal(t, "R-SCIM-2", orgmodel.RuleOf(err))
				e.must(204, e.do("DELETE", "/Users/"+id, nil))
			}
			e.must(404, e.do("GET", "/Users/"+id, nil))
		})
	}
}

// TestRule_AUDIT_1_ProvisioningIsAudited: each change leaves an event
// naming the SCIM token that made it.
func TestRule_AUDIT_1_ProvisioningIsAudited(t *testing.T) {
	e := newEnv(t)
	id := e.newUser("ann@acme.test")
	g := e.newGroup("G", id)
	e.must(204, e.do("PATCH", "/Groups/"+g, patchOps(op("remove", "members", nil))))
	e.must(200, e.do("PATCH", "/Users/"+id, patchOps(op("replace", "active", false))))
	evs, err := e.svc.ListAudit(e.ctx, orgmodel.OperatorActor("cli"), orgmodel.AuditFilter{OrgSID: e.org, Limit: 20})
	require.NoError(t, err)
	var got []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Actor, "scim:") {
			assert.Equal(t, "scim", ev.Via)
			got = append(got, ev.Action)
		}
	}
	assert.Equal(t, []string{"user.deactivate", "user.update", "group.members", "group.create", "user.provision"}, got)
}
