package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scim2/filter-parser/v2"
)

// The filter and PATCH path parser. It produces the AST of
// github.com/scim2/filter-parser (the types elimity-com/scim hands to
// handlers) but is our own: that parser accepts at most two terms inside
// a value path, keeps string escapes undecoded, rejects \u escapes, cannot
// read Entra's emails[type eq "work"].value eq "x", and costs ~2,400
// allocations for userName eq "x" (research/scim.md §8).
//
// Grammar (RFC 7644 §3.4.2.2, keywords and attribute names case-insensitive):
//
//	FILTER    = OR
//	OR        = AND *("or" AND)
//	AND       = UNARY *("and" UNARY)
//	UNARY     = "not" ["("] … | "(" FILTER ")" | ATOM
//	ATOM      = attrPath "pr" | attrPath compareOp compValue
//	          | attrPath "[" valFilter "]" ["." subAttr (compareOp compValue | "pr")]
//	valFilter = FILTER over sub-attributes, without value paths
//
// The bracketed form followed by ".subAttr op value" is Entra's; it means
// attr[valFilter and subAttr op value]. A bare word compValue (Entra's
// documented externalId eq jyoung) is read as a string.

// Parser limits: bounds on the work one filter may cause.
const (
	maxFilterLen   = 4096
	maxFilterDepth = 32
)

// syntaxError is a filter or path the grammar refuses.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.pos, e.msg) }

type parser struct {
	s     string
	i     int
	depth int
	inVal bool // inside a value path's brackets
}

func (p *parser) fail(format string, args ...any) error {
	return &syntaxError{pos: p.i, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// word returns the next run of name characters without consuming it.
func (p *parser) word() string {
	j := p.i
	for j < len(p.s) && isNameChar(p.s[j]) {
		j++
	}
	return p.s[p.i:j]
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$'
}

// keyword consumes kw (case-insensitive) when it is the next whole word.
func (p *parser) keyword(kw string) bool {
	w := p.word()
	if strings.EqualFold(w, kw) {
		p.i += len(w)
		return true
	}
	return false
}

// ParseFilter parses a SCIM filter.
func ParseFilter(s string) (filter.Expression, error) {
	if len(s) > maxFilterLen {
		return nil, &syntaxError{msg: fmt.Sprintf("the filter is longer than %d bytes", maxFilterLen)}
	}
	p := &parser{s: s}
	p.ws()
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.fail("unexpected %q", excerpt(p.s[p.i:]))
	}
	return e, nil
}

// ParsePath parses a PATCH path: attrPath, or valuePath with an optional
// sub-attribute.
func ParsePath(s string) (filter.Path, error) {
	if len(s) > maxFilterLen {
		return filter.Path{}, &syntaxError{msg: fmt.Sprintf("the path is longer than %d bytes", maxFilterLen)}
	}
	p := &parser{s: s}
	p.ws()
	ap, err := p.attrPath()
	if err != nil {
		return filter.Path{}, err
	}
	out := filter.Path{AttributePath: ap}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '[' {
		if ap.SubAttribute != nil {
			return filter.Path{}, p.fail("a value filter applies to an attribute, not to a sub-attribute")
		}
		p.i++
		p.inVal = true
		p.ws()
		vf, err := p.or()
		if err != nil {
			return filter.Path{}, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return filter.Path{}, p.fail("expected ]")
		}
		p.i++
		p.inVal = false
		out.ValueExpression = vf
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			name := p.word()
			if !validName(name) {
				return filter.Path{}, p.fail("expected a sub-attribute name after ]")
			}
			p.i += len(name)
			out.SubAttribute = &name
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return filter.Path{}, p.fail("unexpected %q", excerpt(p.s[p.i:]))
	}
	return out, nil
}

func excerpt(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxFilterDepth {
		return p.fail("the filter nests deeper than %d levels", maxFilterDepth)
	}
	return nil
}

func (p *parser) or() (filter.Expression, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		save := p.i
		p.ws()
		if p.i == save || !p.keyword("or") {
			p.i = save
			return left, nil
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &filter.LogicalExpression{Left: left, Right: right, Operator: filter.OR}
	}
}

func (p *parser) and() (filter.Expression, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		save := p.i
		p.ws()
		if p.i == save || !p.keyword("and") {
			p.i = save
			return left, nil
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &filter.LogicalExpression{Left: left, Right: right, Operator: filter.AND}
	}
}

// sp requires white space after a keyword.
func (p *parser) sp() error {
	save := p.i
	p.ws()
	if p.i == save {
		return p.fail("expected a space")
	}
	return nil
}

func (p *parser) group() (filter.Expression, error) {
	p.i++ // (
	p.ws()
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, p.fail("expected )")
	}
	p.i++
	return e, nil
}

func (p *parser) unary() (filter.Expression, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("expected an expression")
	}
	if p.s[p.i] == '(' {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		return p.group()
	}
	save := p.i
	if p.keyword("not") {
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '(' {
			if err := p.enter(); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			e, err := p.group()
			if err != nil {
				return nil, err
			}
			return &filter.NotExpression{Expression: e}, nil
		}
		p.i = save // an attribute named "not…"
	}
	return p.atom()
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	if s == "$ref" {
		return true
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) || s[i] == '$' {
			return false
		}
	}
	return true
}

// attrPath reads [URI ":"] ATTRNAME ["." subAttr]. A URI holds colons and
// dots ("…:enterprise:2.0:User:manager.value"): the name is what follows
// the last colon.
func (p *parser) attrPath() (filter.AttributePath, error) {
	start := p.i
	j := p.i
	for j < len(p.s) && (isNameChar(p.s[j]) || p.s[j] == ':' || p.s[j] == '.') {
		j++
	}
	tok := p.s[start:j]
	if tok == "" {
		return filter.AttributePath{}, p.fail("expected an attribute name")
	}
	var ap filter.AttributePath
	rest := tok
	if k := strings.LastIndexByte(tok, ':'); k >= 0 {
		uri := tok[:k]
		if uri == "" || strings.HasSuffix(uri, ".") {
			return filter.AttributePath{}, p.fail("malformed schema URI in %q", excerpt(tok))
		}
		ap.URIPrefix = &uri
		rest = tok[k+1:]
	}
	name, sub, dotted := strings.Cut(rest, ".")
	if !validName(name) {
		return filter.AttributePath{}, p.fail("%q is not an attribute name", excerpt(rest))
	}
	ap.AttributeName = name
	if dotted {
		if !validName(sub) {
			return filter.AttributePath{}, p.fail("%q is not a sub-attribute name", excerpt(sub))
		}
		ap.SubAttribute = &sub
	}
	p.i = j
	return ap, nil
}

var compareOps = map[string]filter.CompareOperator{
	"eq": filter.EQ, "ne": filter.NE, "co": filter.CO, "sw": filter.SW, "ew": filter.EW,
	"gt": filter.GT, "ge": filter.GE, "lt": filter.LT, "le": filter.LE,
}

func (p *parser) atom() (filter.Expression, error) {
	ap, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		if p.inVal {
			return nil, p.fail("value filters do not nest")
		}
		if ap.SubAttribute != nil {
			return nil, p.fail("a value filter applies to an attribute, not to a sub-attribute")
		}
		p.i++
		p.inVal = true
		p.ws()
		vf, err := p.or()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return nil, p.fail("expected ]")
		}
		p.i++
		p.inVal = false
		if p.i < len(p.s) && p.s[p.i] == '.' {
			// Entra: attr[filter].sub op value == attr[filter and sub op value].
			p.i++
			name := p.word()
			if !validName(name) {
				return nil, p.fail("expected a sub-attribute name after ]")
			}
			p.i += len(name)
			cmp, err := p.comparison(filter.AttributePath{AttributeName: name})
			if err != nil {
				return nil, err
			}
			vf = &filter.LogicalExpression{Left: vf, Right: cmp, Operator: filter.AND}
		}
		return &filter.ValuePath{AttributePath: ap, ValueFilter: vf}, nil
	}
	return p.comparison(ap)
}

// comparison reads "pr" or compareOp compValue after an attribute path.
func (p *parser) comparison(ap filter.AttributePath) (filter.Expression, error) {
	if err := p.sp(); err != nil {
		return nil, err
	}
	op := strings.ToLower(p.word())
	p.i += len(op)
	if op == "pr" {
		return &filter.AttributeExpression{AttributePath: ap, Operator: filter.PR}, nil
	}
	cop, ok := compareOps[op]
	if !ok {
		return nil, p.fail("%q is not a comparison operator (eq ne co sw ew gt ge lt le pr)", op)
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &filter.AttributeExpression{AttributePath: ap, Operator: cop, CompareValue: v}, nil
}

// value reads a JSON string, number, true, false or null, or a bare word.
func (p *parser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("expected a value")
	}
	if p.s[p.i] == '"' {
		j := p.i + 1
		for j < len(p.s) && p.s[j] != '"' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return nil, p.fail("unterminated string")
		}
		var out string
		if !utf8.ValidString(p.s[p.i : j+1]) {
			return nil, p.fail("the string is not valid UTF-8")
		}
		if err := json.Unmarshal([]byte(p.s[p.i:j+1]), &out); err != nil {
			return nil, p.fail("malformed string")
		}
		p.i = j + 1
		return out, nil
	}
	j := p.i
	for j < len(p.s) && !strings.ContainsRune(" \t\r\n()[]\"", rune(p.s[j])) {
		j++
	}
	tok := p.s[p.i:j]
	switch strings.ToLower(tok) {
	case "true":
		p.i = j
		return true, nil
	case "false":
		p.i = j
		return false, nil
	case "null":
		p.i = j
		return nil, nil
	case "":
		return nil, p.fail("expected a value")
	}
	if c := tok[0]; c == '-' || c >= '0' && c <= '9' {
		if !json.Valid([]byte(tok)) {
			return nil, p.fail("malformed number %q", excerpt(tok))
		}
		if !strings.ContainsAny(tok, ".eE") {
			if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
				p.i = j
				return int(n), nil
			}
		}
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, p.fail("malformed number %q", excerpt(tok))
		}
		p.i = j
		return f, nil
	}
	for k := 0; k < len(tok); k++ {
		c := tok[k]
		if !(isNameChar(c) || c == '.' || c == '@' || c == '+') {
			return nil, p.fail("a string value must be quoted: %q", excerpt(tok))
		}
	}
	p.i = j
	return tok, nil
}
