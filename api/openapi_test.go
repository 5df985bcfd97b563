package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/api"
)

// TestOpenAPI_MatchesRoutes walks the router and the document: every
// route is documented and every documented operation is served.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	served, err := api.ServedRoutes(api.Config{})
	require.NoError(t, err)
	documented, err := api.DocRoutes()
	require.NoError(t, err)
	assert.Equal(t, served, documented)
	assert.Len(t, served, 26) // 9 per 2010-04-01 form × 2, 6 Organizations, token, document
	assert.Empty(t, api.DocRefs(), "unresolved $ref")
}

func TestOpenAPI_IsServed(t *testing.T) {
	e := newEnv(t)
	res := e.raw("GET", "/openapi.json", nil, "")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "3.1.0", res.body["openapi"])
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.text), &doc))
	paths := doc["paths"].(map[string]any)
	assert.Contains(t, paths, "/2010-04-01/Accounts/{AccountSid}.json")
	assert.Contains(t, paths, "/Organizations/{OrganizationSid}/RoleAssignments")
}

// TestOpenAPI_CheckerCatchesDrift makes sure the response checker that
// every other test runs can fail.
func TestOpenAPI_CheckerCatchesDrift(t *testing.T) {
	good := `{"code":20404,"message":"m","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`
	assert.Empty(t, api.CheckResponse("GET", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json", 404, []byte(good)))
	assert.NotEmpty(t, api.CheckResponse("GET", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json", 418, []byte(good)), "undocumented status")
	assert.NotEmpty(t, api.CheckResponse("GET", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json", 404, []byte(`{"code":"x"}`)), "wrong type, missing fields")
	assert.NotEmpty(t, api.CheckResponse("GET", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json", 200, []byte(`{"sid":"AC1"}`)), "missing fields, bad pattern")
	assert.NotEmpty(t, api.CheckResponse("DELETE", "/Organizations/OR0123456789abcdef0123456789abcdef/RoleAssignments/IY0123456789abcdef0123456789abcdef", 204, []byte(`{}`)), "a body where none is documented")
	extra := `{"code":20404,"message":"m","more_info":"u","status":404,"surprise":1}`
	assert.NotEmpty(t, api.CheckResponse("GET", "/nowhere", 404, []byte(extra)), "an undocumented property")
}
