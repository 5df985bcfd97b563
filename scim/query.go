package scim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scim2/filter-parser/v2"

	"github.com/orgd/orgd/orgmodel"
)

// filterError is a filter that parses but cannot be answered: an unknown
// attribute, a comparison its type does not allow (invalidFilter).
type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

func badFilter(format string, args ...any) error {
	return &filterError{fmt.Sprintf(format, args...)}
}

// compileFilter parses a filter and turns it into a condition on r's
// resources. "" is no condition.
func compileFilter(r *resource, f string) (orgmodel.Cond, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	e, err := ParseFilter(f)
	if err != nil {
		return nil, err
	}
	return compileExpr(r, e)
}

func compileExpr(r *resource, e filter.Expression) (orgmodel.Cond, error) {
	c := &compiler{r: r}
	return c.expr(e)
}

// compileRootFilter compiles a filter for a query across resource types:
// an attribute r does not have is taken as having no value (RFC 7644
// §3.4.2.1), so that "pr" and "eq" on it are false and "ne" true.
func compileRootFilter(r *resource, f string) (orgmodel.Cond, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	e, err := ParseFilter(f)
	if err != nil {
		return nil, err
	}
	c := &compiler{r: r, root: true}
	return c.expr(e)
}

type compiler struct {
	r    *resource
	root bool // across resource types: unknown attributes have no value
	// elem is the attribute a value path ranges over, inside its brackets.
	elem *attrRef
}

func (c *compiler) expr(e filter.Expression) (orgmodel.Cond, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := c.expr(e.Left)
		if err != nil {
			return nil, err
		}
		rt, err := c.expr(e.Right)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.AND {
			return flatAnd(l, rt), nil
		}
		return flatOr(l, rt), nil
	case *filter.NotExpression:
		x, err := c.expr(e.Expression)
		if err != nil {
			return nil, err
		}
		return orgmodel.Not{C: x}, nil
	case *filter.AttributeExpression:
		return c.atom(e.AttributePath, e.Operator, e.CompareValue)
	case *filter.ValuePath:
		return c.valuePath(e)
	}
	return nil, badFilter("unsupported filter expression")
}

func flatAnd(a, b orgmodel.Cond) orgmodel.Cond {
	var out orgmodel.And
	for _, x := range []orgmodel.Cond{a, b} {
		if y, ok := x.(orgmodel.And); ok {
			out = append(out, y...)
		} else {
			out = append(out, x)
		}
	}
	return out
}

func flatOr(a, b orgmodel.Cond) orgmodel.Cond {
	var out orgmodel.Or
	for _, x := range []orgmodel.Cond{a, b} {
		if y, ok := x.(orgmodel.Or); ok {
			out = append(out, y...)
		} else {
			out = append(out, x)
		}
	}
	return out
}

var opOf = map[filter.CompareOperator]orgmodel.Op{
	filter.EQ: orgmodel.OpEq, filter.NE: orgmodel.OpNe, filter.CO: orgmodel.OpCo, filter.SW: orgmodel.OpSw,
	filter.EW: orgmodel.OpEw, filter.GT: orgmodel.OpGt, filter.GE: orgmodel.OpGe, filter.LT: orgmodel.OpLt,
	filter.LE: orgmodel.OpLe, filter.PR: orgmodel.OpPr,
}

// termPath is the stored path of an attribute: lower case, URN-prefixed
// in an extension.
func termPath(ref attrRef) string {
	p := ""
	if ref.ext {
		p = strings.ToLower(ref.schemaID) + ":"
	}
	if ref.parent != nil {
		return p + strings.ToLower(ref.parent.Name()) + "." + strings.ToLower(ref.attr.Name())
	}
	return p + strings.ToLower(ref.attr.Name())
}

func (c *compiler) valuePath(e *filter.ValuePath) (orgmodel.Cond, error) {
	if c.elem != nil {
		return nil, badFilter("value filters do not nest")
	}
	ap := e.AttributePath
	if ap.SubAttribute != nil {
		return nil, badFilter("a value filter applies to a multi-valued attribute, not to %s", ap)
	}
	name := strings.ToLower(ap.AttributeName)
	if ap.URIPrefix == nil && (name == "members" && c.r == groups || name == "groups" && c.r == users) {
		ref, _ := c.r.lookup("", name, "")
		c.elem = &ref
		defer func() { c.elem = nil }()
		inner, err := c.expr(e.ValueFilter)
		if err != nil {
			return nil, err
		}
		rel := orgmodel.RelMembers
		if c.r == users {
			rel = orgmodel.RelGroups
		}
		return orgmodel.ElemCond{Attr: rel, C: inner}, nil
	}
	ref, ok := c.r.lookup(ap.URI(), ap.AttributeName, "")
	if !ok {
		if c.root {
			return orgmodel.Const(false), nil
		}
		return nil, badFilter("%s has no attribute %s", c.r.name, ap)
	}
	if !ref.attr.MultiValued() || ref.attr.AttributeType() != "complex" {
		return nil, badFilter("%s is not a multi-valued complex attribute: it takes no value filter", ap)
	}
	c.elem = &ref
	defer func() { c.elem = nil }()
	inner, err := c.expr(e.ValueFilter)
	if err != nil {
		return nil, err
	}
	return orgmodel.ElemCond{Attr: termPath(ref), C: inner}, nil
}

// atom compiles one comparison.
func (c *compiler) atom(ap filter.AttributePath, fop filter.CompareOperator, v any) (orgmodel.Cond, error) {
	op, ok := opOf[fop]
	if !ok {
		return nil, badFilter("%q is not a comparison operator", fop)
	}
	if c.elem != nil {
		return c.elemAtom(ap, op, v)
	}
	uri, name, sub := ap.URI(), ap.AttributeName, ap.SubAttributeName()
	lname := strings.ToLower(name)
	if uri == "" || strings.EqualFold(uri, c.r.core.ID) {
		switch lname {
		case "id":
			if sub != "" {
				return nil, badFilter("id has no sub-attributes")
			}
			return stringCol(colSID(c.r), op, v, true)
		case "externalid":
			if sub != "" {
				return nil, badFilter("externalId has no sub-attributes")
			}
			col := orgmodel.UserColExternalID
			if c.r == groups {
				col = orgmodel.GroupColExternalID
			}
			return stringCol(col, op, v, true)
		case "meta":
			return c.meta(sub, op, v)
		case "schemas":
			return nil, badFilter("filtering on schemas is not supported")
		}
		if c.r == users {
			switch lname {
			case "username":
				if sub != "" {
					return nil, badFilter("userName has no sub-attributes")
				}
				return stringCol(orgmodel.UserColEmail, op, v, false)
			case "active":
				if sub != "" {
					return nil, badFilter("active has no sub-attributes")
				}
				return boolCol(orgmodel.UserColActive, op, v)
			case "groups":
				return c.relAtom(orgmodel.RelGroups, sub, op, v)
			}
		} else {
			switch lname {
			case "displayname":
				if sub != "" {
					return nil, badFilter("displayName has no sub-attributes")
				}
				return stringCol(orgmodel.GroupColName, op, v, false)
			case "members":
				return c.relAtom(orgmodel.RelMembers, sub, op, v)
			}
		}
	}
	if c.r == groups {
		return c.unknown(op, "Group has no attribute %s", ap)
	}
	ref, ok := c.r.lookup(uri, name, sub)
	if !ok {
		return c.unknown(op, "User has no attribute %s", ap)
	}
	if ref.attr.AttributeType() == "complex" {
		// A complex attribute without a sub-attribute compares its value
		// (manager eq "…", emails co "@x"); pr asks for any sub-attribute.
		if op == orgmodel.OpPr {
			var or orgmodel.Or
			for _, sa := range ref.attr.SubAttributes() {
				parent := ref.attr
				or = append(or, orgmodel.TermCond{Path: termPath(attrRef{schemaID: ref.schemaID, ext: ref.ext, attr: sa, parent: &parent}), Op: orgmodel.OpPr})
			}
			return or, nil
		}
		sa, ok := ref.attr.SubAttributes().ContainsAttribute("value")
		if !ok {
			return nil, badFilter("%s is complex: name one of its sub-attributes", ap)
		}
		parent := ref.attr
		ref = attrRef{schemaID: ref.schemaID, ext: ref.ext, attr: sa, parent: &parent}
	}
	return termAtom(ref, op, v)
}

// unknown answers an attribute r does not have: an invalid filter, or at
// the root no value.
func (c *compiler) unknown(op orgmodel.Op, format string, ap filter.AttributePath) (orgmodel.Cond, error) {
	if !c.root {
		return nil, badFilter(format, ap)
	}
	return orgmodel.Const(op == orgmodel.OpNe), nil
}

func colSID(r *resource) orgmodel.Column {
	if r == groups {
		return orgmodel.GroupColSID
	}
	return orgmodel.UserColSID
}

// elemAtom compiles a comparison inside a value filter on c.elem.
func (c *compiler) elemAtom(ap filter.AttributePath, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	if ap.URIPrefix != nil || ap.SubAttribute != nil {
		return nil, badFilter("inside [ ] name a sub-attribute of %s, not %s", c.elem.name(), ap)
	}
	name := c.elem.name()
	if name == "members" && c.r == groups || name == "groups" && c.r == users {
		return relSub(ap.AttributeName, op, v)
	}
	sa, ok := c.elem.attr.SubAttributes().ContainsAttribute(ap.AttributeName)
	if !ok {
		return nil, badFilter("%s has no sub-attribute %s", name, ap.AttributeName)
	}
	parent := c.elem.attr
	return termAtom(attrRef{schemaID: c.elem.schemaID, ext: c.elem.ext, attr: sa, parent: &parent}, op, v)
}

// relAtom compiles members[.sub] or groups[.sub] outside brackets: a
// member (group) that satisfies the comparison.
func (c *compiler) relAtom(rel, sub string, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	if sub == "" {
		sub = "value"
	}
	inner, err := relSub(sub, op, v)
	if err != nil {
		return nil, err
	}
	if op == orgmodel.OpNe {
		// "members ne x": no member is x.
		return orgmodel.Not{C: orgmodel.ElemCond{Attr: rel, C: invertNe(inner)}}, nil
	}
	return orgmodel.ElemCond{Attr: rel, C: inner}, nil
}

func invertNe(c orgmodel.Cond) orgmodel.Cond {
	if cc, ok := c.(orgmodel.ColCond); ok && cc.Op == orgmodel.OpNe {
		cc.Op = orgmodel.OpEq
		return cc
	}
	return orgmodel.Not{C: c}
}

// relSub compiles a comparison on one member (group) of a relation.
func relSub(name string, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	switch strings.ToLower(name) {
	case "value":
		if op == orgmodel.OpPr {
			return orgmodel.Const(true), nil
		}
		s, err := stringValue(v, op)
		if err != nil {
			return nil, err
		}
		return orgmodel.ColCond{Col: orgmodel.ElemColValue, Op: op, Value: canonicalSID(s)}, nil
	case "display":
		if op == orgmodel.OpPr {
			return orgmodel.Const(true), nil
		}
		s, err := stringValue(v, op)
		if err != nil {
			return nil, err
		}
		return orgmodel.ColCond{Col: orgmodel.ElemColDisplay, Op: op, Value: s}, nil
	case "type":
		// Members are users, and a user's groups are direct: compare the constant.
		return nil, badFilter("filtering on type is not supported; every member is a User and every membership direct")
	case "$ref":
		return nil, badFilter("filtering on $ref is not supported; filter on value")
	}
	return nil, badFilter("no sub-attribute %s", name)
}

// canonicalSID writes a SID-like value as SIDs are stored (two upper-case
// letters, lower-case hex), since ids compare exactly.
func canonicalSID(s string) string {
	if len(s) == 34 {
		c := strings.ToUpper(s[:2]) + strings.ToLower(s[2:])
		if orgmodel.ValidSID(c[:2], c) {
			return c
		}
	}
	return s
}

func (c *compiler) meta(sub string, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	created, updated := orgmodel.UserColCreated, orgmodel.UserColUpdated
	if c.r == groups {
		created, updated = orgmodel.GroupColCreated, orgmodel.GroupColUpdated
	}
	switch strings.ToLower(sub) {
	case "created":
		return dateCol(created, op, v)
	case "lastmodified":
		return dateCol(updated, op, v)
	case "resourcetype":
		if op == orgmodel.OpPr {
			return orgmodel.Const(true), nil
		}
		s, err := stringValue(v, op)
		if err != nil {
			return nil, err
		}
		return orgmodel.Const(compareConst(c.r.name, op, s, true)), nil
	case "":
		if op == orgmodel.OpPr {
			return orgmodel.Const(true), nil
		}
		return nil, badFilter("meta is complex: name one of its sub-attributes")
	}
	return nil, badFilter("filtering on meta.%s is not supported (created, lastModified and resourceType are)", sub)
}

// compareConst evaluates a comparison against a value known in advance.
func compareConst(have string, op orgmodel.Op, v string, exact bool) bool {
	if !exact {
		have, v = orgmodel.FoldKey(have), orgmodel.FoldKey(v)
	}
	switch op {
	case orgmodel.OpEq:
		return have == v
	case orgmodel.OpNe:
		return have != v
	case orgmodel.OpCo:
		return strings.Contains(have, v)
	case orgmodel.OpSw:
		return strings.HasPrefix(have, v)
	case orgmodel.OpEw:
		return strings.HasSuffix(have, v)
	case orgmodel.OpGt:
		return have > v
	case orgmodel.OpGe:
		return have >= v
	case orgmodel.OpLt:
		return have < v
	case orgmodel.OpLe:
		return have <= v
	}
	return true
}

// stringValue is a comparison's string operand.
func stringValue(v any, op orgmodel.Op) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", badFilter("%s compares with a string here, not %s", op, describe(v))
	}
	return s, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func stringCol(col orgmodel.Column, op orgmodel.Op, v any, exact bool) (orgmodel.Cond, error) {
	if op == orgmodel.OpPr {
		return orgmodel.ColCond{Col: col, Op: op}, nil
	}
	if v == nil {
		return nullCompare(orgmodel.ColCond{Col: col, Op: orgmodel.OpPr}, op)
	}
	s, err := stringValue(v, op)
	if err != nil {
		return nil, err
	}
	if col == orgmodel.UserColSID || col == orgmodel.GroupColSID {
		s = canonicalSID(s)
	}
	return orgmodel.ColCond{Col: col, Op: op, Value: s}, nil
}

// nullCompare: "eq null" asks for absence, "ne null" for presence.
func nullCompare(present orgmodel.Cond, op orgmodel.Op) (orgmodel.Cond, error) {
	switch op {
	case orgmodel.OpEq:
		return orgmodel.Not{C: present}, nil
	case orgmodel.OpNe:
		return present, nil
	}
	return nil, badFilter("%s does not compare with null", op)
}

func boolCol(col orgmodel.Column, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	if op == orgmodel.OpPr {
		return orgmodel.Const(true), nil
	}
	b, ok := v.(bool)
	if !ok {
		return nil, badFilter("a boolean attribute compares with true or false, not %s", describe(v))
	}
	if op != orgmodel.OpEq && op != orgmodel.OpNe {
		return nil, badFilter("a boolean attribute takes eq, ne or pr, not %s", op)
	}
	return orgmodel.ColCond{Col: col, Op: op, Value: b}, nil
}

func dateCol(col orgmodel.Column, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	if op == orgmodel.OpPr {
		return orgmodel.Const(true), nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, badFilter("a dateTime compares with a string such as \"2011-05-13T04:42:34Z\", not %s", describe(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, badFilter("%q is not an RFC 3339 dateTime", s)
	}
	switch op {
	case orgmodel.OpCo, orgmodel.OpSw, orgmodel.OpEw:
		return nil, badFilter("a dateTime takes eq, ne, gt, ge, lt, le or pr, not %s", op)
	}
	return orgmodel.ColCond{Col: col, Op: op, Value: t}, nil
}

// termAtom compiles a comparison on a stored term.
func termAtom(ref attrRef, op orgmodel.Op, v any) (orgmodel.Cond, error) {
	path := termPath(ref)
	if op == orgmodel.OpPr {
		return orgmodel.TermCond{Path: path, Op: op}, nil
	}
	if v == nil {
		return nullCompare(orgmodel.TermCond{Path: path, Op: orgmodel.OpPr}, op)
	}
	switch ref.attr.AttributeType() {
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, badFilter("%s is a boolean: compare it with true or false, not %s", ref.name(), describe(v))
		}
		if op != orgmodel.OpEq && op != orgmodel.OpNe {
			return nil, badFilter("%s is a boolean: it takes eq, ne or pr, not %s", ref.name(), op)
		}
		return orgmodel.TermCond{Path: path, Op: op, Value: strconv.FormatBool(b), Exact: true}, nil
	case "integer", "decimal":
		if op != orgmodel.OpEq && op != orgmodel.OpNe {
			return nil, badFilter("%s is a number: it takes eq, ne or pr, not %s", ref.name(), op)
		}
		switch n := v.(type) {
		case int:
			return orgmodel.TermCond{Path: path, Op: op, Value: strconv.Itoa(n), Exact: true}, nil
		case float64:
			return orgmodel.TermCond{Path: path, Op: op, Value: strconv.FormatFloat(n, 'g', -1, 64), Exact: true}, nil
		}
		return nil, badFilter("%s is a number, not %s", ref.name(), describe(v))
	case "binary":
		if op != orgmodel.OpEq && op != orgmodel.OpNe {
			return nil, badFilter("%s is binary: it takes eq, ne or pr, not %s", ref.name(), op)
		}
	case "dateTime":
		return nil, badFilter("filtering on %s is not supported", ref.name())
	}
	s, ok := v.(string)
	if !ok {
		return nil, badFilter("%s is a string: compare it with a quoted value, not %s", ref.name(), describe(v))
	}
	return orgmodel.TermCond{Path: path, Op: op, Value: s, Exact: ref.attr.CaseExact()}, nil
}

// compileSort turns sortBy into a Sort on r's resources.
func compileSort(r *resource, by, order string) (orgmodel.Sort, error) {
	var s orgmodel.Sort
	switch strings.ToLower(order) {
	case "", "ascending":
	case "descending":
		s.Desc = true
	default:
		return s, &valueError{field: "sortOrder", msg: fmt.Sprintf("sortOrder %q is not ascending or descending", order)}
	}
	if by == "" {
		return s, nil
	}
	ap, err := ParsePath(by)
	if err != nil || ap.ValueExpression != nil {
		return s, &valueError{field: "sortBy", msg: fmt.Sprintf("sortBy %q is not an attribute path", by)}
	}
	p := ap.AttributePath
	lname, lsub := strings.ToLower(p.AttributeName), strings.ToLower(p.SubAttributeName())
	bad := &valueError{field: "sortBy", msg: fmt.Sprintf("cannot sort %s by %s", r.name, by)}
	if p.URI() == "" || strings.EqualFold(p.URI(), r.core.ID) {
		switch {
		case lname == "id" && lsub == "":
			s.Col = colSID(r)
			return s, nil
		case lname == "externalid" && lsub == "":
			s.Col = orgmodel.UserColExternalID
			if r == groups {
				s.Col = orgmodel.GroupColExternalID
			}
			return s, nil
		case lname == "meta" && lsub == "created":
			s.Col = orgmodel.UserColCreated
			if r == groups {
				s.Col = orgmodel.GroupColCreated
			}
			return s, nil
		case lname == "meta" && lsub == "lastmodified":
			s.Col = orgmodel.UserColUpdated
			if r == groups {
				s.Col = orgmodel.GroupColUpdated
			}
			return s, nil
		case r == groups && lname == "displayname" && lsub == "":
			s.Col = orgmodel.GroupColName
			return s, nil
		case r == users && lname == "username" && lsub == "":
			s.Col = orgmodel.UserColEmail
			return s, nil
		case r == users && lname == "active" && lsub == "":
			s.Col = orgmodel.UserColActive
			return s, nil
		}
	}
	if r == groups {
		return s, bad
	}
	ref, ok := r.lookup(p.URI(), p.AttributeName, p.SubAttributeName())
	if !ok || ref.attr.Mutability() == "readOnly" && ref.parent == nil {
		return s, bad
	}
	if ref.attr.AttributeType() == "complex" {
		sa, ok := ref.attr.SubAttributes().ContainsAttribute("value")
		if !ok {
			return s, bad
		}
		parent := ref.attr
		ref = attrRef{schemaID: ref.schemaID, ext: ref.ext, attr: sa, parent: &parent}
	}
	s.Path = termPath(ref)
	return s, nil
}

// valueError is a request parameter or body value that is not acceptable.
type valueError struct {
	field string
	msg   string
}

func (e *valueError) Error() string { return e.msg }
