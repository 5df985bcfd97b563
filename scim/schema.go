package scim

import (
	"strings"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Schema URNs (RFC 7643, RFC 7644).
const (
	urnUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	urnGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	urnEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	urnPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	urnList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	urnSearch     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	urnError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	urnBulkReq    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	urnBulkResp   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	urnSPConfig   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	urnResType    = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	urnSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// resource is what a schema describes: a User or a Group.
type resource struct {
	name     string // User, Group
	endpoint string // /Users, /Groups
	core     schema.Schema
	exts     []schema.Schema
	// valid is core plus externalId, as elimity validates a resource body.
	valid schema.Schema
}

// The schemas served and enforced: elimity-com/scim's RFC 7643 schemas,
// without the User's password (provisioned users log in through single
// sign-on; a password sent is ignored, never stored or returned).
var (
	userSchema       = withoutAttr(schema.CoreUserSchema(), "password")
	enterpriseSchema = schema.ExtensionEnterpriseUser()
	groupSchema      = schema.CoreGroupSchema()

	externalIDAttr = schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
		CaseExact:   true,
		Description: optional.NewString("An identifier for the resource as defined by the provisioning client."),
		Mutability:  schema.AttributeMutabilityReadWrite(),
		Name:        "externalId",
		Uniqueness:  schema.AttributeUniquenessNone(),
	}))

	users  = newResource("User", "/Users", userSchema, enterpriseSchema)
	groups = newResource("Group", "/Groups", groupSchema)
)

func newResource(name, endpoint string, core schema.Schema, exts ...schema.Schema) *resource {
	v := core
	v.Attributes = append(append(schema.Attributes{}, core.Attributes...), externalIDAttr)
	return &resource{name: name, endpoint: endpoint, core: core, exts: exts, valid: v}
}

func withoutAttr(s schema.Schema, name string) schema.Schema {
	var out schema.Attributes
	for _, a := range s.Attributes {
		if !strings.EqualFold(a.Name(), name) {
			out = append(out, a)
		}
	}
	s.Attributes = out
	return s
}

// attrRef is an attribute a path names: the schema it is in (core or an
// extension URN), the attribute and, for a sub-attribute, the parent.
type attrRef struct {
	schemaID string
	ext      bool // in an extension: stored under its URN
	attr     schema.CoreAttribute
	parent   *schema.CoreAttribute
}

// name is the attribute's canonical name.
func (r attrRef) name() string { return r.attr.Name() }

// common attributes every resource has besides its schema's.
var commonNames = map[string]string{"id": "id", "externalid": "externalId", "meta": "meta", "schemas": "schemas"}

// lookup resolves [uri:]name[.sub] against r's schemas. uri may also be
// the full URN of an extension written as a prefix of the name.
func (r *resource) lookup(uri, name, sub string) (attrRef, bool) {
	schemas := append([]schema.Schema{r.core}, r.exts...)
	for i, s := range schemas {
		if uri != "" && !strings.EqualFold(uri, s.ID) {
			continue
		}
		a, ok := s.Attributes.ContainsAttribute(name)
		if !ok {
			continue
		}
		ref := attrRef{schemaID: s.ID, ext: i > 0, attr: a}
		if sub == "" {
			return ref, true
		}
		sa, ok := a.SubAttributes().ContainsAttribute(sub)
		if !ok {
			return attrRef{}, false
		}
		parent := a
		ref.attr, ref.parent = sa, &parent
		return ref, true
	}
	return attrRef{}, false
}

// ext returns the extension schema with the given URN.
func (r *resource) ext(urn string) (schema.Schema, bool) {
	for _, s := range r.exts {
		if strings.EqualFold(s.ID, urn) {
			return s, true
		}
	}
	return schema.Schema{}, false
}

// schemaIDs lists the URNs a resource of r carries.
func (r *resource) schemaIDs(withExt bool) []string {
	out := []string{r.core.ID}
	if withExt {
		for _, e := range r.exts {
			out = append(out, e.ID)
		}
	}
	return out
}

// schemaDoc renders a schema for /Schemas.
func schemaDoc(s schema.Schema, base string) map[string]any {
	m := s.ToMap()
	m["meta"] = map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s.ID}
	return m
}

// allSchemas lists the schemas /Schemas serves.
func allSchemas() []schema.Schema {
	return []schema.Schema{userSchema, enterpriseSchema, groupSchema}
}

func resourceTypeDoc(r *resource, base string) map[string]any {
	exts := []map[string]any{}
	for _, e := range r.exts {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	return map[string]any{
		"schemas":          []string{urnResType},
		"id":               r.name,
		"name":             r.name,
		"description":      r.name,
		"endpoint":         r.endpoint,
		"schema":           r.core.ID,
		"schemaExtensions": exts,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + r.name},
	}
}

// Limits advertised in /ServiceProviderConfig and enforced.
const (
	maxResults        = 1000    // filter.maxResults: the largest page
	defaultCount      = 100     // a page when count is not given
	bulkMaxOperations = 1000    // bulk.maxOperations
	bulkMaxPayload    = 1 << 20 // bulk.maxPayloadSize, bytes
	maxBody           = 1 << 20 // any other request body, bytes
)

// spConfig is the ServiceProviderConfig: exactly what this server does.
func spConfig(base string) map[string]any {
	return map[string]any{
		"schemas":          []string{urnSPConfig},
		"documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": bulkMaxOperations, "maxPayloadSize": bulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type":             "oauthbearertoken",
			"name":             "OAuth Bearer Token",
			"description":      "A bearer token issued by orgd for one organization (orgd scim-token create).",
			"specUri":          "https://datatracker.ietf.org/doc/html/rfc6750",
			"documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644#section-2",
			"primary":          true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}
