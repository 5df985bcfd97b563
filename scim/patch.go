package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/orgd/orgd/orgmodel"
)

// The PATCH engine (RFC 7644 §3.5.2). A request is parsed into
// elimity-com/scim's PatchOperation values (op, a filter-parser path,
// value); the engine applies them in order to a copy of the resource —
// the whole document for a User, membership changes for a Group — so that
// one failing operation leaves the resource untouched.
//
// What real clients send is accepted as they mean it: capitalised op
// names and "True"/"False" strings (Entra ID without aadOptscim062020),
// a "remove" of members with a value list (remove only those, not all),
// a manager given as an id, a list or {"value": …}, a no-path "replace"
// whose value holds an "id" (Okta's rename) or dotted and URN keys, and
// Entra's emails[type eq "work"].value path: when no element matches such
// a filter of equalities, "add" and "replace" create the element.

// maxPatchOps bounds the operations of one request.
const maxPatchOps = 1000

// parsePatch reads a PatchOp body.
func parsePatch(r *resource, body []byte) ([]scim.PatchOperation, error) {
	var raw map[string]json.RawMessage
	if err := decodeJSON(body, &raw); err != nil {
		return nil, &bodyError{"the body is not a JSON object: " + jsonProblem(err)}
	}
	field := func(name string) json.RawMessage {
		for k, v := range raw {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return nil
	}
	var schemas []string
	if err := json.Unmarshal(field("schemas"), &schemas); err != nil || !containsFold(schemas, urnPatchOp) {
		return nil, &bodyError{`a PATCH body must have "schemas": ["` + urnPatchOp + `"]`}
	}
	var ops []map[string]json.RawMessage
	if err := json.Unmarshal(field("Operations"), &ops); err != nil || len(ops) == 0 {
		return nil, &bodyError{`a PATCH body must have "Operations": a list of one or more operations`}
	}
	if len(ops) > maxPatchOps {
		return nil, errStatus(400, scimerr.ScimTypeTooMany, fmt.Sprintf("a PATCH request holds at most %d operations", maxPatchOps))
	}
	out := make([]scim.PatchOperation, 0, len(ops))
	for i, o := range ops {
		get := func(name string) json.RawMessage {
			for k, v := range o {
				if strings.EqualFold(k, name) {
					return v
				}
			}
			return nil
		}
		var op, path string
		if err := json.Unmarshal(get("op"), &op); err != nil {
			return nil, &patchError{scimerr.ScimTypeInvalidSyntax, fmt.Sprintf("operation %d: op must be add, replace or remove", i+1)}
		}
		op = strings.ToLower(op)
		if op != scim.PatchOperationAdd && op != scim.PatchOperationReplace && op != scim.PatchOperationRemove {
			return nil, &patchError{scimerr.ScimTypeInvalidSyntax, fmt.Sprintf("operation %d: op %q is not add, replace or remove", i+1, op)}
		}
		if p := get("path"); p != nil && string(p) != "null" {
			if err := json.Unmarshal(p, &path); err != nil {
				return nil, &pathError{fmt.Errorf("operation %d: path must be a string", i+1)}
			}
		}
		var value any
		if v := get("value"); v != nil {
			if err := decodeJSON(v, &value); err != nil {
				return nil, &bodyError{fmt.Sprintf("operation %d: the value is not JSON", i+1)}
			}
		}
		po := scim.PatchOperation{Op: op, Value: value}
		if strings.TrimSpace(path) != "" {
			p, err := ParsePath(path)
			if err != nil {
				return nil, &pathError{fmt.Errorf("operation %d: %w", i+1, err)}
			}
			if err := checkPath(r, p); err != nil {
				return nil, &pathError{fmt.Errorf("operation %d: %w", i+1, err)}
			}
			po.Path = &p
		} else if op == scim.PatchOperationRemove {
			return nil, &patchError{scimerr.ScimTypeNoTarget, fmt.Sprintf("operation %d: remove needs a path", i+1)}
		}
		if op != scim.PatchOperationRemove && value == nil {
			return nil, &patchError{scimerr.ScimTypeInvalidValue, fmt.Sprintf("operation %d: %s needs a value", i+1, op)}
		}
		out = append(out, po)
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// checkPath refuses paths that name nothing of r.
func checkPath(r *resource, p filter.Path) error {
	ap := p.AttributePath
	if _, ok := containerURN(r, ap); ok {
		if p.ValueExpression != nil || ap.SubAttribute != nil {
			return fmt.Errorf("%s is a schema, not an attribute", ap)
		}
		return nil
	}
	if ap.URIPrefix == nil {
		if _, ok := commonNames[strings.ToLower(ap.AttributeName)]; ok {
			return nil // id, externalId, meta, schemas: decided when applied
		}
	}
	ref, ok := r.lookup(ap.URI(), ap.AttributeName, ap.SubAttributeName())
	if !ok {
		return fmt.Errorf("%s has no attribute %s", r.name, ap)
	}
	if p.ValueExpression != nil && ref.attr.AttributeType() != "complex" {
		return fmt.Errorf("%s takes no value filter", ap)
	}
	if p.SubAttribute != nil {
		if _, ok := ref.attr.SubAttributes().ContainsAttribute(*p.SubAttribute); !ok {
			return fmt.Errorf("%s has no sub-attribute %s", ap, *p.SubAttribute)
		}
	}
	return nil
}

// containerURN reports whether ap names an extension schema itself
// ("urn:…:enterprise:2.0:User"), whose value is an object of its attributes.
func containerURN(r *resource, ap filter.AttributePath) (string, bool) {
	if ap.URIPrefix == nil {
		return "", false
	}
	full := ap.URI() + ":" + ap.AttributeName
	if ap.SubAttribute != nil {
		full += "." + *ap.SubAttribute
	}
	if s, ok := r.ext(full); ok {
		return s.ID, true
	}
	return "", false
}

// userPatcher applies operations to a User's document.
type userPatcher struct {
	id  string
	doc map[string]any
}

// patchUser applies ops to doc (a User's representation, modified in
// place); the caller validates the result against the schema.
func patchUser(doc map[string]any, id string, ops []scim.PatchOperation) error {
	p := &userPatcher{id: id, doc: doc}
	for i, op := range ops {
		var err error
		if op.Path == nil {
			err = p.noPath(op.Op, op.Value)
		} else {
			err = p.at(op.Op, *op.Path, op.Value)
		}
		if err != nil {
			return prefixOp(err, i+1)
		}
	}
	return nil
}

func prefixOp(err error, n int) error {
	switch e := err.(type) {
	case *patchError:
		return &patchError{e.scimType, fmt.Sprintf("operation %d: %s", n, e.msg)}
	case *pathError:
		return &pathError{fmt.Errorf("operation %d: %w", n, e.err)}
	}
	return err
}

func mutability(format string, args ...any) error {
	return &patchError{scimerr.ScimTypeMutability, fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) error {
	return &patchError{scimerr.ScimTypeInvalidValue, fmt.Sprintf(format, args...)}
}

// noPath applies {"op": add|replace, "value": {attributes}}: each key is an
// attribute, a path ("name.givenName", "urn:…:User:employeeNumber") or an
// extension's URN holding an object of its attributes.
func (p *userPatcher) noPath(op string, value any) error {
	m, ok := value.(map[string]any)
	if !ok {
		return invalidValue("without a path, the value must be an object of attributes")
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch strings.ToLower(k) {
		case "id":
			if s, _ := v.(string); s != p.id {
				return mutability("id is read-only")
			}
			continue
		case "meta", "schemas", "groups", "password":
			continue // read-only or never stored: ignored, as in a POST
		}
		if s, ok := users.ext(k); ok {
			inner, ok := v.(map[string]any)
			if !ok {
				if v == nil && op == scim.PatchOperationReplace {
					delete(p.doc, s.ID)
					continue
				}
				return invalidValue("the value of %s must be an object of its attributes", s.ID)
			}
			for _, k2 := range sortedKeys(inner) {
				uri := s.ID
				if err := p.at(op, filter.Path{AttributePath: filter.AttributePath{URIPrefix: &uri, AttributeName: k2}}, inner[k2]); err != nil {
					return err
				}
			}
			continue
		}
		path, err := ParsePath(k)
		if err != nil {
			return &pathError{fmt.Errorf("value key %q: %w", k, err)}
		}
		if err := checkPath(users, path); err != nil {
			continue // an attribute the schema does not have: ignored, as in a POST
		}
		if err := p.at(op, path, v); err != nil {
			return err
		}
	}
	return nil
}

// container returns the object that holds ref's attribute: the document,
// or the extension's object (created when create is true).
func (p *userPatcher) container(ref attrRef, create bool) map[string]any {
	if !ref.ext {
		return p.doc
	}
	k := findKey(p.doc, ref.schemaID)
	if m, ok := p.doc[k].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	p.doc[ref.schemaID] = m
	return m
}

// findKey returns the key of m equal to name without regard to case, or name.
func findKey(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// at applies one operation at a path.
func (p *userPatcher) at(op string, path filter.Path, value any) error {
	ap := path.AttributePath
	if urn, ok := containerURN(users, ap); ok {
		return p.atContainer(op, urn, value)
	}
	if ap.URIPrefix == nil {
		switch strings.ToLower(ap.AttributeName) {
		case "id", "meta", "schemas":
			return mutability("%s is read-only", ap.AttributeName)
		case "externalid":
			return p.simple(op, p.doc, "externalId", externalIDAttr, value, false)
		}
	}
	ref, ok := users.lookup(ap.URI(), ap.AttributeName, ap.SubAttributeName())
	if !ok {
		return &pathError{fmt.Errorf("User has no attribute %s", ap)}
	}
	top := ref.attr
	if ref.parent != nil {
		top = *ref.parent
	}
	if top.Mutability() == "readOnly" || ref.attr.Mutability() == "readOnly" {
		return mutability("%s is read-only", ap)
	}
	c := p.container(ref, op != scim.PatchOperationRemove)
	if c == nil {
		return nil // removing from an extension the user does not have
	}
	key := findKey(c, top.Name())

	if path.ValueExpression != nil {
		return p.filtered(op, c, key, top, path, value)
	}
	if ref.parent != nil {
		// name.givenName, manager.value, emails.value (every element).
		return p.subAttr(op, c, key, top, ref.attr, value)
	}
	switch {
	case top.MultiValued():
		return p.multi(op, c, key, top, value)
	case top.AttributeType() == "complex":
		return p.complex(op, c, key, top, value)
	default:
		return p.simple(op, c, key, top, value, top.Required())
	}
}

func (p *userPatcher) atContainer(op, urn string, value any) error {
	k := findKey(p.doc, urn)
	switch op {
	case scim.PatchOperationRemove:
		delete(p.doc, k)
		return nil
	}
	m, ok := value.(map[string]any)
	if !ok {
		return invalidValue("the value of %s must be an object of its attributes", urn)
	}
	if op == scim.PatchOperationReplace {
		delete(p.doc, k)
	}
	for _, k2 := range sortedKeys(m) {
		uri := urn
		if err := p.at(scim.PatchOperationAdd, filter.Path{AttributePath: filter.AttributePath{URIPrefix: &uri, AttributeName: k2}}, m[k2]); err != nil {
			return err
		}
	}
	return nil
}

func (p *userPatcher) simple(op string, c map[string]any, key string, a schema.CoreAttribute, value any, required bool) error {
	if op == scim.PatchOperationRemove {
		if required {
			return mutability("%s is required and cannot be removed", a.Name())
		}
		if strings.EqualFold(a.Name(), "active") {
			return mutability("active cannot be removed; replace it with false to deactivate the user")
		}
		delete(c, key)
		return nil
	}
	v := coerceValue(a, value)
	if v == nil {
		if required {
			return mutability("%s is required", a.Name())
		}
		delete(c, key)
		return nil
	}
	if _, err := a.ValidateSingular(v); err != nil {
		return invalidValue("%s: %s", a.Name(), scimDetail(err))
	}
	delete(c, key)
	c[a.Name()] = v
	return nil
}

func scimDetail(err *scimerr.ScimError) string {
	if err.Detail != "" {
		return err.Detail
	}
	return "not a valid value"
}

// complex merges sub-attributes into a single-valued complex attribute
// (RFC 7644 §3.5.2.1, §3.5.2.3: unnamed sub-attributes stay).
func (p *userPatcher) complex(op string, c map[string]any, key string, a schema.CoreAttribute, value any) error {
	if op == scim.PatchOperationRemove {
		delete(c, key)
		return nil
	}
	v := coerceValue(a, value)
	if v == nil {
		delete(c, key)
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalidValue("%s is complex: its value must be an object", a.Name())
	}
	cur, _ := c[key].(map[string]any)
	if cur == nil {
		cur = map[string]any{}
	}
	for k, sv := range m {
		sa, ok := a.SubAttributes().ContainsAttribute(k)
		if !ok {
			continue
		}
		if sa.Mutability() == "readOnly" {
			continue
		}
		sk := findKey(cur, sa.Name())
		delete(cur, sk)
		if sv != nil {
			cur[sa.Name()] = coerceValue(sa, sv)
		}
	}
	delete(c, key)
	if len(cur) > 0 {
		c[a.Name()] = cur
	}
	return nil
}

// subAttr sets or removes one sub-attribute: of a single-valued complex
// attribute, or of every element of a multi-valued one.
func (p *userPatcher) subAttr(op string, c map[string]any, key string, top, sub schema.CoreAttribute, value any) error {
	set := func(m map[string]any) error {
		sk := findKey(m, sub.Name())
		delete(m, sk)
		if op == scim.PatchOperationRemove {
			return nil
		}
		v := coerceValue(sub, value)
		if v == nil {
			return nil
		}
		if _, err := sub.ValidateSingular(v); err != nil {
			return invalidValue("%s.%s: %s", top.Name(), sub.Name(), scimDetail(err))
		}
		m[sub.Name()] = v
		return nil
	}
	if top.MultiValued() {
		list, _ := c[key].([]any)
		if len(list) == 0 {
			if op == scim.PatchOperationRemove {
				return nil
			}
			m := map[string]any{}
			if err := set(m); err != nil {
				return err
			}
			c[top.Name()] = []any{m}
			return nil
		}
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if err := set(m); err != nil {
					return err
				}
			}
		}
		return nil
	}
	m, _ := c[key].(map[string]any)
	if m == nil {
		if op == scim.PatchOperationRemove {
			return nil
		}
		m = map[string]any{}
	}
	if err := set(m); err != nil {
		return err
	}
	delete(c, key)
	if len(m) > 0 {
		c[top.Name()] = m
	}
	return nil
}

// asList is a multi-valued attribute's value: a list, or one element.
func asList(a schema.CoreAttribute, value any) []any {
	v := coerceValue(a, value)
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// multi adds to, replaces or removes a multi-valued attribute.
func (p *userPatcher) multi(op string, c map[string]any, key string, a schema.CoreAttribute, value any) error {
	cur, _ := c[key].([]any)
	switch op {
	case scim.PatchOperationAdd:
		for _, e := range asList(a, value) {
			if !containsValue(cur, e) {
				cur = append(cur, e)
			}
		}
	case scim.PatchOperationReplace:
		cur = asList(a, value)
	case scim.PatchOperationRemove:
		if value == nil {
			cur = nil
			break
		}
		// A value list names the elements to remove (as Entra ID does for
		// members), not "remove all".
		var kept []any
		for _, e := range cur {
			if !containsValue(asList(a, value), e) {
				kept = append(kept, e)
			}
		}
		cur = kept
	}
	if op != scim.PatchOperationRemove && a.AttributeType() == "complex" {
		demotePrimary(cur)
	}
	delete(c, key)
	if len(cur) > 0 {
		c[a.Name()] = cur
	}
	return nil
}

// demotePrimary keeps the last element marked primary as the only one
// (RFC 7644 §3.5.2: a new primary value clears the old one).
func demotePrimary(list []any) {
	last := -1
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			last = i
		}
	}
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && i != last && m["primary"] == true {
			delete(m, "primary")
		}
	}
}

// containsValue reports whether list holds e: elements with a "value"
// compare on it (case-insensitively), others as a whole.
func containsValue(list []any, e any) bool {
	em, eIsMap := e.(map[string]any)
	for _, x := range list {
		if xm, ok := x.(map[string]any); ok && eIsMap {
			ev, eok := em[findKey(em, "value")].(string)
			xv, xok := xm[findKey(xm, "value")].(string)
			if eok && xok {
				if orgmodel.FoldKey(ev) == orgmodel.FoldKey(xv) {
					return true
				}
				continue
			}
		}
		if reflect.DeepEqual(x, e) {
			return true
		}
	}
	return false
}

// filtered applies an operation at attr[filter][.sub].
func (p *userPatcher) filtered(op string, c map[string]any, key string, a schema.CoreAttribute, path filter.Path, value any) error {
	var sub *schema.CoreAttribute
	if path.SubAttribute != nil {
		sa, _ := a.SubAttributes().ContainsAttribute(*path.SubAttribute)
		if sa.Mutability() == "readOnly" {
			return mutability("%s.%s is read-only", a.Name(), sa.Name())
		}
		sub = &sa
	}
	apply := func(m map[string]any) (map[string]any, error) {
		if sub != nil {
			sk := findKey(m, sub.Name())
			delete(m, sk)
			if op == scim.PatchOperationRemove {
				return m, nil
			}
			v := coerceValue(*sub, value)
			if v != nil {
				if _, err := sub.ValidateSingular(v); err != nil {
					return nil, invalidValue("%s.%s: %s", a.Name(), sub.Name(), scimDetail(err))
				}
				m[sub.Name()] = v
			}
			return m, nil
		}
		if op == scim.PatchOperationRemove {
			return nil, nil
		}
		v := coerceValue(a, value)
		if l, ok := v.([]any); ok && len(l) == 1 {
			v = l[0]
		}
		nm, ok := v.(map[string]any)
		if !ok {
			return nil, invalidValue("%s is complex: its value must be an object", a.Name())
		}
		if op == scim.PatchOperationReplace {
			return nm, nil
		}
		for k, v := range nm {
			m[k] = v
		}
		return m, nil
	}

	if !a.MultiValued() {
		// A filter on a single-valued complex attribute (manager[value eq "…"]).
		m, _ := c[key].(map[string]any)
		hit := false
		if m != nil {
			var err error
			if hit, err = matchElem(a, m, path.ValueExpression); err != nil {
				return err
			}
		}
		if !hit {
			if op == scim.PatchOperationReplace {
				return &patchError{scimerr.ScimTypeNoTarget, fmt.Sprintf("%s matches nothing", path)}
			}
			if op == scim.PatchOperationRemove {
				return nil
			}
			m = map[string]any{}
		}
		nm, err := apply(m)
		if err != nil {
			return err
		}
		delete(c, key)
		if len(nm) > 0 {
			c[a.Name()] = nm
		}
		return nil
	}

	list, _ := c[key].([]any)
	var out []any
	hits := 0
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			out = append(out, e)
			continue
		}
		hit, err := matchElem(a, m, path.ValueExpression)
		if err != nil {
			return err
		}
		if !hit {
			out = append(out, e)
			continue
		}
		hits++
		nm, err := apply(m)
		if err != nil {
			return err
		}
		if nm != nil && len(nm) > 0 {
			out = append(out, nm)
		}
	}
	if hits == 0 {
		switch op {
		case scim.PatchOperationRemove:
			return nil
		}
		// No element matches: a filter of equalities (type eq "work")
		// describes the element to create; anything else is no target.
		seed, ok := equalities(a, path.ValueExpression)
		if !ok {
			return &patchError{scimerr.ScimTypeNoTarget, fmt.Sprintf("%s matches nothing", path)}
		}
		nm, err := apply(seed)
		if err != nil {
			return err
		}
		for k, v := range seed {
			if _, ok := nm[k]; !ok {
				nm[k] = v
			}
		}
		out = append(out, nm)
	}
	if op != scim.PatchOperationRemove {
		demotePrimary(out)
	}
	delete(c, key)
	if len(out) > 0 {
		c[a.Name()] = out
	}
	return nil
}

// equalities reads a filter made only of "sub eq value" joined by "and"
// into the element it describes.
func equalities(a schema.CoreAttribute, e filter.Expression) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch e := e.(type) {
		case *filter.LogicalExpression:
			return e.Operator == filter.AND && walk(e.Left) && walk(e.Right)
		case *filter.AttributeExpression:
			if e.Operator != filter.EQ || e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil {
				return false
			}
			sa, ok := a.SubAttributes().ContainsAttribute(e.AttributePath.AttributeName)
			if !ok || e.CompareValue == nil {
				return false
			}
			out[sa.Name()] = e.CompareValue
			return true
		}
		return false
	}
	return out, walk(e)
}

// matchElem evaluates a value filter on one element of a.
func matchElem(a schema.CoreAttribute, m map[string]any, e filter.Expression) (bool, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := matchElem(a, m, e.Left)
		if err != nil {
			return false, err
		}
		if e.Operator == filter.AND && !l {
			return false, nil
		}
		if e.Operator == filter.OR && l {
			return true, nil
		}
		return matchElem(a, m, e.Right)
	case *filter.NotExpression:
		x, err := matchElem(a, m, e.Expression)
		return !x, err
	case *filter.AttributeExpression:
		ap := e.AttributePath
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return false, &pathError{fmt.Errorf("inside [ ] name a sub-attribute of %s, not %s", a.Name(), ap)}
		}
		sa, ok := a.SubAttributes().ContainsAttribute(ap.AttributeName)
		if !ok {
			return false, &pathError{fmt.Errorf("%s has no sub-attribute %s", a.Name(), ap.AttributeName)}
		}
		return compareValue(sa, m[findKey(m, sa.Name())], e.Operator, e.CompareValue)
	}
	return false, &pathError{fmt.Errorf("value filters do not nest")}
}

// compareValue compares a stored value with a filter operand, by the
// attribute's type and case-exactness.
func compareValue(a schema.CoreAttribute, have any, op filter.CompareOperator, want any) (bool, error) {
	if op == filter.PR {
		return have != nil && have != "", nil
	}
	if want == nil {
		present := have != nil && have != ""
		switch op {
		case filter.EQ:
			return !present, nil
		case filter.NE:
			return present, nil
		}
		return false, &pathError{fmt.Errorf("%s does not compare with null", op)}
	}
	if have == nil {
		return op == filter.NE, nil
	}
	switch a.AttributeType() {
	case "boolean":
		hb, _ := coerceValue(a, have).(bool)
		wb, ok := want.(bool)
		if !ok || op != filter.EQ && op != filter.NE {
			return false, &pathError{fmt.Errorf("%s is a boolean: compare it with eq or ne and true or false", a.Name())}
		}
		return (hb == wb) == (op == filter.EQ), nil
	case "integer", "decimal":
		hf, ok1 := toFloat(have)
		wf, ok2 := toFloat(want)
		if !ok1 || !ok2 {
			return false, &pathError{fmt.Errorf("%s is a number", a.Name())}
		}
		return orderOK(hf.Cmp(wf), op)
	case "dateTime":
		hs, _ := have.(string)
		ws, _ := want.(string)
		ht, err1 := time.Parse(time.RFC3339Nano, hs)
		wt, err2 := time.Parse(time.RFC3339Nano, ws)
		if err1 != nil || err2 != nil {
			return false, &pathError{fmt.Errorf("%s is a dateTime", a.Name())}
		}
		return orderOK(ht.Compare(wt), op)
	}
	hs, ok := have.(string)
	ws, ok2 := want.(string)
	if !ok || !ok2 {
		return false, &pathError{fmt.Errorf("%s is a string: compare it with a quoted value", a.Name())}
	}
	return compareConst(hs, opOf[op], ws, a.CaseExact()), nil
}

func toFloat(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case json.Number:
		f, ok := new(big.Float).SetString(x.String())
		return f, ok
	case float64:
		return big.NewFloat(x), true
	case int:
		return big.NewFloat(float64(x)), true
	case int64:
		return big.NewFloat(float64(x)), true
	}
	return nil, false
}

func orderOK(c int, op filter.CompareOperator) (bool, error) {
	switch op {
	case filter.EQ:
		return c == 0, nil
	case filter.NE:
		return c != 0, nil
	case filter.GT:
		return c > 0, nil
	case filter.GE:
		return c >= 0, nil
	case filter.LT:
		return c < 0, nil
	case filter.LE:
		return c <= 0, nil
	}
	return false, &pathError{fmt.Errorf("%s does not apply here", op)}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// groupPatch turns operations on a Group into the model's changes.
// members lists the current members, for the rare filters that are not
// a set of ids (called at most once).
func groupPatch(id string, ops []scim.PatchOperation, members func() ([]orgmodel.GroupMember, error)) ([]orgmodel.GroupChange, error) {
	var out []orgmodel.GroupChange
	for i, op := range ops {
		cs, err := groupOp(id, op, members)
		if err != nil {
			return nil, prefixOp(err, i+1)
		}
		out = append(out, cs...)
	}
	return out, nil
}

func groupOp(id string, op scim.PatchOperation, members func() ([]orgmodel.GroupMember, error)) ([]orgmodel.GroupChange, error) {
	if op.Path == nil {
		m, ok := op.Value.(map[string]any)
		if !ok {
			return nil, invalidValue("without a path, the value must be an object of attributes")
		}
		var out []orgmodel.GroupChange
		for _, k := range sortedKeys(m) {
			v := m[k]
			switch strings.ToLower(k) {
			case "id":
				if s, _ := v.(string); s != id {
					return nil, mutability("id is read-only")
				}
			case "meta", "schemas":
			case "displayname":
				c, err := groupAttr(op.Op, "displayName", v)
				if err != nil {
					return nil, err
				}
				out = append(out, c...)
			case "externalid":
				c, err := groupAttr(op.Op, "externalId", v)
				if err != nil {
					return nil, err
				}
				out = append(out, c...)
			case "members":
				c, err := membersOp(op.Op, v)
				if err != nil {
					return nil, err
				}
				out = append(out, c...)
			}
		}
		return out, nil
	}
	p := *op.Path
	ap := p.AttributePath
	if ap.URIPrefix != nil && !strings.EqualFold(ap.URI(), urnGroup) {
		return nil, &pathError{fmt.Errorf("Group has no attribute %s", ap)}
	}
	name := strings.ToLower(ap.AttributeName)
	switch {
	case name == "members" && ap.SubAttribute == nil && p.ValueExpression == nil:
		return membersOp(op.Op, op.Value)
	case name == "members" && p.ValueExpression != nil && p.SubAttribute == nil && ap.SubAttribute == nil:
		if op.Op == scim.PatchOperationAdd {
			return nil, &pathError{fmt.Errorf("add members with the path members, not a filter")}
		}
		sids, err := matchMembers(p.ValueExpression, members)
		if err != nil {
			return nil, err
		}
		out := []orgmodel.GroupChange{{Op: orgmodel.GroupRemoveMembers, Members: sids}}
		if op.Op == scim.PatchOperationReplace {
			add, err := membersOp(scim.PatchOperationAdd, op.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, add...)
		}
		return out, nil
	case name == "members":
		return nil, mutability("a member's sub-attributes are immutable: add or remove the member")
	case name == "displayname" && ap.SubAttribute == nil && p.ValueExpression == nil:
		return groupAttr(op.Op, "displayName", op.Value)
	case name == "externalid" && ap.SubAttribute == nil && p.ValueExpression == nil:
		return groupAttr(op.Op, "externalId", op.Value)
	case name == "id" || name == "meta" || name == "schemas":
		return nil, mutability("%s is read-only", ap.AttributeName)
	}
	return nil, &pathError{fmt.Errorf("Group has no attribute %s", p)}
}

func groupAttr(op, name string, v any) ([]orgmodel.GroupChange, error) {
	s, isStr := v.(string)
	if op == scim.PatchOperationRemove || v == nil {
		if name == "displayName" {
			return nil, mutability("displayName is required and cannot be removed")
		}
		return []orgmodel.GroupChange{{Op: orgmodel.GroupSetExternalID}}, nil
	}
	if !isStr {
		return nil, invalidValue("%s must be a string", name)
	}
	if name == "displayName" {
		return []orgmodel.GroupChange{{Op: orgmodel.GroupRename, DisplayName: s}}, nil
	}
	return []orgmodel.GroupChange{{Op: orgmodel.GroupSetExternalID, ExternalID: s}}, nil
}

// membersOp is an operation on the members attribute as a whole.
func membersOp(op string, v any) ([]orgmodel.GroupChange, error) {
	switch op {
	case scim.PatchOperationRemove:
		if v == nil {
			return []orgmodel.GroupChange{{Op: orgmodel.GroupSetMembers}}, nil
		}
		sids, err := memberValues(v)
		if err != nil {
			return nil, err
		}
		return []orgmodel.GroupChange{{Op: orgmodel.GroupRemoveMembers, Members: sids}}, nil
	case scim.PatchOperationReplace:
		sids, err := memberValues(v)
		if err != nil {
			return nil, err
		}
		return []orgmodel.GroupChange{{Op: orgmodel.GroupSetMembers, Members: sids}}, nil
	}
	sids, err := memberValues(v)
	if err != nil {
		return nil, err
	}
	return []orgmodel.GroupChange{{Op: orgmodel.GroupAddMembers, Members: sids}}, nil
}

// memberValues reads members given as [{"value": id, …}], one object, or ids.
func memberValues(v any) ([]orgmodel.UserSID, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = x
	default:
		list = []any{x}
	}
	out := make([]orgmodel.UserSID, 0, len(list))
	for _, e := range list {
		var id string
		switch x := e.(type) {
		case string:
			id = x
		case map[string]any:
			if t, _ := x[findKey(x, "type")].(string); t != "" && !strings.EqualFold(t, "User") {
				return nil, invalidValue("members are users; nested groups are not supported")
			}
			s, ok := x[findKey(x, "value")].(string)
			if !ok || s == "" {
				return nil, invalidValue(`each member needs a "value": the member's id`)
			}
			id = s
		default:
			return nil, invalidValue(`each member is an object with a "value": the member's id`)
		}
		out = append(out, orgmodel.UserSID(canonicalSID(id)))
	}
	return out, nil
}

// matchMembers returns the members a filter selects: directly when it is
// value eq … joined by or, else by evaluating it on the members.
func matchMembers(e filter.Expression, members func() ([]orgmodel.GroupMember, error)) ([]orgmodel.UserSID, error) {
	var ids []orgmodel.UserSID
	var walk func(filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch e := e.(type) {
		case *filter.LogicalExpression:
			return e.Operator == filter.OR && walk(e.Left) && walk(e.Right)
		case *filter.AttributeExpression:
			s, ok := e.CompareValue.(string)
			if e.Operator != filter.EQ || !ok || !strings.EqualFold(e.AttributePath.AttributeName, "value") ||
				e.AttributePath.SubAttribute != nil || e.AttributePath.URIPrefix != nil {
				return false
			}
			ids = append(ids, orgmodel.UserSID(canonicalSID(s)))
			return true
		}
		return false
	}
	if walk(e) {
		return ids, nil
	}
	ms, err := members()
	if err != nil {
		return nil, err
	}
	membersAttr, _ := groupSchema.Attributes.ContainsAttribute("members")
	ids = nil
	for _, m := range ms {
		hit, err := matchElem(membersAttr, map[string]any{"value": string(m.UserSID), "display": m.Email, "type": "User"}, e)
		if err != nil {
			return nil, err
		}
		if hit {
			ids = append(ids, m.UserSID)
		}
	}
	return ids, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be %s", te.Field, te.Type)
	}
	return "malformed JSON"
}
