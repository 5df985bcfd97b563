package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim/schema"

	"github.com/orgd/orgd/orgmodel"
)

// A User is stored as orgmodel.User: userName is the login email, the
// fields the model knows (externalId, name.givenName, name.familyName,
// displayName, locale, timezone, active) are its columns, and every other
// attribute — the enterprise extension included — is kept as given in
// Extra. Its representation is rebuilt from both.

// userFields are the attributes kept in the user's own columns.
var userFields = map[string]bool{
	"id": true, "externalid": true, "username": true, "displayname": true, "locale": true,
	"timezone": true, "active": true, "meta": true, "schemas": true, "groups": true, "password": true,
}

// etag is the weak entity tag of a resource version.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads a version from an entity tag (weak or strong).
func parseETag(tag string) (int64, bool) {
	tag = strings.TrimSpace(tag)
	tag = strings.TrimPrefix(tag, "W/")
	tag = strings.TrimSuffix(strings.TrimPrefix(tag, `"`), `"`)
	v, err := strconv.ParseInt(tag, 10, 64)
	return v, err == nil && v > 0
}

func timeString(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// extra decodes a user's Extra.
func extra(u *orgmodel.User) map[string]any {
	m := map[string]any{}
	if u.Extra == "" {
		return m
	}
	d := json.NewDecoder(strings.NewReader(u.Extra))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return map[string]any{}
	}
	if c, ok := clean(m).(map[string]any); ok {
		return c
	}
	return map[string]any{}
}

// clean drops nulls, empty lists and empty objects, at every depth: a
// value that is not there is left out, never sent as null (Entra ID asks
// for that, and an empty "roles": [] means no roles).
func clean(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if c := clean(e); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if c := clean(e); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// userDoc is the representation of u. groups, when not nil, fills the
// read-only groups attribute.
func userDoc(u *orgmodel.User, gs []orgmodel.GroupRef, withGroups bool, base string) map[string]any {
	doc := extra(u)
	_, hasExt := doc[urnEnterprise]
	doc["schemas"] = users.schemaIDs(false)
	if hasExt {
		doc["schemas"] = users.schemaIDs(true)
	}
	doc["id"] = string(u.SID)
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	doc["userName"] = u.Email
	name, _ := doc["name"].(map[string]any)
	if name == nil {
		name = map[string]any{}
	}
	if u.GivenName != "" {
		name["givenName"] = u.GivenName
	}
	if u.FamilyName != "" {
		name["familyName"] = u.FamilyName
	}
	if len(name) > 0 {
		doc["name"] = name
	}
	for k, v := range map[string]string{"displayName": u.DisplayName, "locale": u.Locale, "timezone": u.Timezone} {
		if v != "" {
			doc[k] = v
		}
	}
	doc["active"] = u.Status == orgmodel.UserActive
	if _, ok := doc["emails"]; !ok {
		// The login is the user's one work email (as it is searchable).
		doc["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	if withGroups {
		list := make([]any, 0, len(gs))
		for _, g := range gs {
			list = append(list, map[string]any{"value": string(g.SID), "display": g.DisplayName,
				"$ref": base + "/Groups/" + string(g.SID), "type": "direct"})
		}
		doc["groups"] = list
	}
	doc["meta"] = map[string]any{
		"resourceType": "User",
		"created":      timeString(u.CreatedAt),
		"lastModified": timeString(u.UpdatedAt),
		"location":     base + "/Users/" + string(u.SID),
		"version":      etag(u.Version),
	}
	return doc
}

// groupDoc is the representation of g; members are listed when loaded.
func groupDoc(g *orgmodel.Group, withMembers bool, base string) map[string]any {
	doc := map[string]any{
		"schemas":     groups.schemaIDs(false),
		"id":          string(g.SID),
		"displayName": g.DisplayName,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      timeString(g.CreatedAt),
			"lastModified": timeString(g.UpdatedAt),
			"location":     base + "/Groups/" + string(g.SID),
			"version":      etag(g.Version),
		},
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	if withMembers {
		ms := make([]any, 0, len(g.Members))
		for _, m := range g.Members {
			ms = append(ms, map[string]any{"value": string(m.UserSID), "display": m.Email,
				"$ref": base + "/Users/" + string(m.UserSID), "type": "User"})
		}
		doc["members"] = ms
	}
	return doc
}

// decodeJSON reads a JSON object keeping numbers exact.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// coerce rewrites, in place, values that non-conforming clients send in
// the wrong JSON type where the schema is unambiguous: booleans as
// "True"/"False" strings (Entra ID), and a manager given as a bare id or as
// a one-element list instead of {"value": id}.
func coerce(attrs schema.Attributes, m map[string]any) {
	for k, v := range m {
		a, ok := attrs.ContainsAttribute(k)
		if !ok {
			continue
		}
		m[k] = coerceValue(a, v)
	}
}

func coerceValue(a schema.CoreAttribute, v any) any {
	switch a.AttributeType() {
	case "boolean":
		if s, ok := v.(string); ok {
			if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s))); err == nil {
				return b
			}
		}
	case "complex":
		if a.MultiValued() {
			if list, ok := v.([]any); ok {
				for i, e := range list {
					if em, ok := e.(map[string]any); ok {
						coerce(a.SubAttributes(), em)
						list[i] = em
					}
				}
			} else if em, ok := v.(map[string]any); ok {
				coerce(a.SubAttributes(), em)
				return []any{em}
			}
			return v
		}
		if strings.EqualFold(a.Name(), "manager") {
			switch x := v.(type) {
			case string:
				if x == "" {
					return nil
				}
				return map[string]any{"value": x}
			case []any:
				if len(x) == 0 {
					return nil
				}
				if len(x) == 1 {
					v = x[0]
				}
			}
		}
		if em, ok := v.(map[string]any); ok {
			coerce(a.SubAttributes(), em)
			return em
		}
	}
	return v
}

// validateUser checks a User body against the schemas (elimity's
// validation: types, required userName, read-only attributes dropped,
// unknown attributes ignored) and returns its attributes, the enterprise
// extension under its URN.
func validateUser(body map[string]any) (map[string]any, error) {
	coerce(users.valid.Attributes, body)
	if ext, ok := body[urnEnterprise].(map[string]any); ok {
		coerce(enterpriseSchema.Attributes, ext)
	}
	attrs, scimErr := users.valid.Validate(body)
	if scimErr != nil {
		return nil, &schemaError{string(scimErr.ScimType), "the User does not conform to its schema: " + scimErr.Detail}
	}
	for k, v := range body {
		if !strings.EqualFold(k, urnEnterprise) || v == nil {
			continue
		}
		ext, scimErr := enterpriseSchema.ValidateExtension(v)
		if scimErr != nil {
			return nil, &schemaError{string(scimErr.ScimType), "the enterprise extension does not conform to its schema: " + scimErr.Detail}
		}
		if len(ext) > 0 {
			attrs[urnEnterprise] = ext
		}
	}
	if err := checkPrimary(attrs); err != nil {
		return nil, err
	}
	return attrs, nil
}

// checkPrimary refuses a multi-valued attribute with more than one
// primary value (RFC 7643 §2.4).
func checkPrimary(attrs map[string]any) error {
	for k, v := range attrs {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		n := 0
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["primary"] == true {
				n++
			}
		}
		if n > 1 {
			return &schemaError{"invalidValue", fmt.Sprintf("%s has %d primary values; at most one may be primary", k, n)}
		}
	}
	return nil
}

// schemaError is a body that does not conform to the schema.
type schemaError struct {
	scimType string
	msg      string
}

func (e *schemaError) Error() string { return e.msg }

// profile turns validated User attributes into the model's Profile.
func profile(attrs map[string]any, active bool) orgmodel.Profile {
	p := orgmodel.Profile{Active: active}
	rest := map[string]any{}
	for k, v := range attrs {
		switch strings.ToLower(k) {
		case "username":
			p.Email, _ = v.(string)
		case "externalid":
			p.ExternalID, _ = v.(string)
		case "displayname":
			p.DisplayName, _ = v.(string)
		case "locale":
			p.Locale, _ = v.(string)
		case "timezone":
			p.Timezone, _ = v.(string)
		case "active":
			if b, ok := v.(bool); ok {
				p.Active = b
			}
		case "name":
			name, _ := v.(map[string]any)
			kept := map[string]any{}
			for nk, nv := range name {
				switch strings.ToLower(nk) {
				case "givenname":
					p.GivenName, _ = nv.(string)
				case "familyname":
					p.FamilyName, _ = nv.(string)
				default:
					kept[nk] = nv
				}
			}
			if kept := clean(kept); kept != nil {
				rest["name"] = kept
			}
		default:
			if userFields[strings.ToLower(k)] {
				continue
			}
			if v = clean(v); v != nil {
				rest[k] = v
			}
		}
	}
	if len(rest) > 0 {
		b, err := json.Marshal(rest)
		if err == nil {
			p.Extra = string(b)
		}
	}
	return p
}
