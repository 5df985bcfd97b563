package orgmodel

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The directory query side: what a provisioning client (SCIM) may ask of
// an organization's users and groups. A query is a condition tree over
// stored columns and searchable terms; the store translates it to indexed
// SQL scoped to one organization, so that no query loads an organization
// into memory.

// Op is a comparison of RFC 7644 §3.4.2.2.
type Op string

const (
	OpEq Op = "eq"
	OpNe Op = "ne"
	OpCo Op = "co"
	OpSw Op = "sw"
	OpEw Op = "ew"
	OpGt Op = "gt"
	OpGe Op = "ge"
	OpLt Op = "lt"
	OpLe Op = "le"
	OpPr Op = "pr"
)

func (o Op) valid() bool {
	switch o {
	case OpEq, OpNe, OpCo, OpSw, OpEw, OpGt, OpGe, OpLt, OpLe, OpPr:
		return true
	}
	return false
}

// ordered reports whether o compares order (gt, ge, lt, le).
func (o Op) ordered() bool { return o == OpGt || o == OpGe || o == OpLt || o == OpLe }

// Column names a stored column a condition may test.
type Column string

// Columns of users.
const (
	UserColSID        Column = "sid"         // the SCIM id; exact
	UserColEmail      Column = "email"       // userName: compared on EmailKey
	UserColExternalID Column = "external_id" // exact; "" is absent
	UserColActive     Column = "active"      // bool
	UserColCreated    Column = "created"     // time.Time
	UserColUpdated    Column = "updated"     // time.Time
)

// Columns of groups.
const (
	GroupColSID        Column = "sid"
	GroupColName       Column = "name" // displayName: compared on FoldKey
	GroupColExternalID Column = "external_id"
	GroupColCreated    Column = "created"
	GroupColUpdated    Column = "updated"
)

// Columns of one element of a relation (inside an ElemCond on RelMembers
// or RelGroups).
const (
	ElemColValue   Column = "value"   // the member's or the group's SID
	ElemColDisplay Column = "display" // the member's userName, or the group's displayName (case-insensitive)
)

// Relations an ElemCond may range over besides terms.
const (
	RelMembers = "members" // a group's members (users)
	RelGroups  = "groups"  // a user's groups
)

// Cond is a condition of a directory query.
type Cond interface{ isCond() }

// And holds when every condition holds (an empty And holds).
type And []Cond

// Or holds when one condition holds (an empty Or does not).
type Or []Cond

// Not holds when C does not.
type Not struct{ C Cond }

// Const is a condition known in advance.
type Const bool

// ColCond compares a column. Value is a string for text columns, a bool
// for UserColActive and a time.Time for times; OpPr ignores it.
type ColCond struct {
	Col   Column
	Op    Op
	Value any
}

// TermCond holds when any term at Path compares true with Value. Exact
// compares the value as given; otherwise FoldKey of both sides. Inside an
// ElemCond over terms it looks at the current element only.
type TermCond struct {
	Path  string
	Op    Op
	Value string
	Exact bool
}

// ElemCond holds when one element of the multi-valued attribute Attr
// satisfies C, every part of C looking at that same element. Attr is a
// term path (e.g. "emails"), RelMembers or RelGroups. Inside, C uses
// TermConds (term paths under Attr) or, for the relations, ColConds on
// ElemColValue and ElemColDisplay.
type ElemCond struct {
	Attr string
	C    Cond
}

func (And) isCond()      {}
func (Or) isCond()       {}
func (Not) isCond()      {}
func (Const) isCond()    {}
func (ColCond) isCond()  {}
func (TermCond) isCond() {}
func (ElemCond) isCond() {}

// Sort orders a query's results: by a column, or by a term path (the
// least of the values at that path). Results without a value come last
// when ascending and first when descending (RFC 7644 §3.4.2.3); ties are
// broken by SID, so that the order is stable across pages.
type Sort struct {
	Col  Column
	Path string
	Desc bool
}

// Query selects an organization's users or groups. Offset and Limit page
// through the results in Sort order; Limit 0 returns no rows (the total
// is still counted).
type Query struct {
	Cond   Cond
	Sort   Sort
	Offset int
	Limit  int
	// Members asks for each group's members too (groups only).
	Members bool
	// MemberCounts asks for each group's number of members (groups only),
	// counted by the store without loading any member, so that a list of
	// groups costs the same for a group of 100,000 members as for one of 3.
	MemberCounts bool
}

// Query limits: bounds on the work one query may cause.
const (
	MaxQueryLimit = 1000
	MaxCondNodes  = 200
)

// check validates q for the given relation ("users" or "groups") so that
// the store never sees a malformed query.
func (q *Query) check(users bool) error {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > MaxQueryLimit {
		return Invalid("count", "count must be between 0 and %d", MaxQueryLimit)
	}
	if q.Sort.Col != "" && q.Sort.Path != "" {
		return Invalid("sortBy", "sort by a column or a path, not both")
	}
	if q.Sort.Col != "" && !knownCol(q.Sort.Col, users, false) {
		return Invalid("sortBy", "cannot sort by %s", q.Sort.Col)
	}
	if q.Sort.Path != "" && !users {
		return Invalid("sortBy", "groups sort by columns only")
	}
	n := 0
	return checkCond(q.Cond, users, "", &n)
}

func knownCol(c Column, users, elem bool) bool {
	if elem {
		return c == ElemColValue || c == ElemColDisplay
	}
	if users {
		switch c {
		case UserColSID, UserColEmail, UserColExternalID, UserColActive, UserColCreated, UserColUpdated:
			return true
		}
		return false
	}
	switch c {
	case GroupColSID, GroupColName, GroupColExternalID, GroupColCreated, GroupColUpdated:
		return true
	}
	return false
}

// checkCond validates a condition tree; elem is the ElemCond's Attr when
// inside one.
func checkCond(c Cond, users bool, elem string, n *int) error {
	*n++
	if *n > MaxCondNodes {
		return Invalid("filter", "the filter has more than %d parts", MaxCondNodes)
	}
	bad := func(format string, args ...any) error { return Invalid("filter", format, args...) }
	switch c := c.(type) {
	case nil, Const:
		return nil
	case And:
		for _, x := range c {
			if err := checkCond(x, users, elem, n); err != nil {
				return err
			}
		}
	case Or:
		for _, x := range c {
			if err := checkCond(x, users, elem, n); err != nil {
				return err
			}
		}
	case Not:
		return checkCond(c.C, users, elem, n)
	case ColCond:
		rel := elem == RelMembers || elem == RelGroups
		if elem != "" && !rel {
			return bad("a column condition cannot appear inside a term element")
		}
		if !c.Op.valid() || !knownCol(c.Col, users, rel) {
			return bad("cannot compare %s with %s", c.Col, c.Op)
		}
		if c.Op == OpPr {
			return nil
		}
		switch c.Value.(type) {
		case string:
			if c.Col == UserColActive && !rel || (c.Col == UserColCreated || c.Col == UserColUpdated) && !rel {
				return bad("%s takes a %s value", c.Col, map[bool]string{true: "boolean", false: "date"}[c.Col == UserColActive])
			}
		case bool:
			if c.Col != UserColActive || rel || !users || (c.Op != OpEq && c.Op != OpNe) {
				return bad("%s does not take a boolean value with %s", c.Col, c.Op)
			}
		case time.Time:
			if (c.Col != UserColCreated && c.Col != UserColUpdated) || rel || c.Op == OpCo || c.Op == OpSw || c.Op == OpEw {
				return bad("%s does not take a date value with %s", c.Col, c.Op)
			}
		default:
			return bad("%s takes no %T value", c.Col, c.Value)
		}
	case TermCond:
		if !users {
			return bad("groups have no term %s", c.Path)
		}
		if !c.Op.valid() || c.Path == "" {
			return bad("cannot compare %s with %s", c.Path, c.Op)
		}
		if elem != "" && !strings.HasPrefix(c.Path, elem+".") {
			return bad("%s is not a part of %s", c.Path, elem)
		}
	case ElemCond:
		if elem != "" {
			return bad("element conditions do not nest")
		}
		switch c.Attr {
		case RelMembers:
			if users {
				return bad("users have no members")
			}
		case RelGroups:
			if !users {
				return bad("groups have no groups")
			}
		case "":
			return bad("an element condition needs an attribute")
		default:
			if !users {
				return bad("groups have no attribute %s", c.Attr)
			}
		}
		return checkCond(c.C, users, c.Attr, n)
	default:
		return bad("unknown condition %T", c)
	}
	return nil
}

// FoldKey is the form on which case-insensitive values compare: every
// character is mapped to the lower case of its upper case, so that Unicode
// letters fold too (É and é, Σ, σ and ς, K and the Kelvin sign), not ASCII
// only. It is computed here, in Go, for both the stored key and the value
// compared, so that SQLite and PostgreSQL agree whatever their collation.
func FoldKey(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
		}
	}
	return strings.ToLower(s)
}

// Term is one searchable value of a user: a lower-case attribute path
// ("emails.value", "name.givenname", "urn:…:enterprise:2.0:user:manager.value"),
// the element of a multi-valued attribute it belongs to (0 when
// single-valued, 1… otherwise), the value as given and its FoldKey. An
// element is known by its sub-attributes' terms; a scalar element of a
// multi-valued attribute is the sub-attribute "value".
type Term struct {
	Path  string
	Elem  int
	Value string
	Key   string
}

// MaxTermKey bounds the indexed key of a term (PostgreSQL's B-tree limits
// entry size); longer values compare on their first MaxTermKey bytes.
const MaxTermKey = 512

// Bounds on one user's terms.
const (
	maxTerms     = 2000
	maxTermDepth = 4
)

// UserTerms lists the searchable values of u: its profile fields and every
// leaf of Extra. A user without provisioned emails is searchable by its
// login as its one work email, as it is shown to provisioning clients.
func UserTerms(u *User) []Term {
	var out []Term
	type pe struct {
		p string
		e int
	}
	seen := map[pe]bool{}
	add := func(path string, elem int, v string) {
		if len(out) >= maxTerms || seen[pe{path, elem}] {
			return // a path that differs only in case is kept once
		}
		seen[pe{path, elem}] = true
		out = append(out, Term{Path: path, Elem: elem, Value: v, Key: TermKey(v)})
	}
	for _, f := range []struct{ p, v string }{
		{"displayname", u.DisplayName}, {"name.givenname", u.GivenName}, {"name.familyname", u.FamilyName},
		{"locale", u.Locale}, {"timezone", u.Timezone},
	} {
		if f.v != "" {
			add(f.p, 0, f.v)
		}
	}
	var extra map[string]any
	if u.Extra != "" {
		d := json.NewDecoder(strings.NewReader(u.Extra))
		d.UseNumber()
		if d.Decode(&extra) != nil {
			extra = nil
		}
	}
	hasEmails := false
	for _, k := range sortedKeys(extra) {
		v := extra[k]
		lk := strings.ToLower(k)
		if lk == "emails" {
			hasEmails = true
		}
		if strings.Contains(k, ":") {
			// An extension's container, keyed by its schema URN.
			if m, ok := v.(map[string]any); ok {
				for _, k2 := range sortedKeys(m) {
					flattenTerm(lk+":"+strings.ToLower(k2), m[k2], 0, 1, add)
				}
			}
			continue
		}
		flattenTerm(lk, v, 0, 1, add)
	}
	if !hasEmails && u.Email != "" {
		add("emails.primary", 1, "true")
		add("emails.type", 1, "work")
		add("emails.value", 1, u.Email)
	}
	return out
}

func flattenTerm(path string, v any, elem, depth int, add func(string, int, string)) {
	if depth > maxTermDepth {
		return
	}
	switch x := v.(type) {
	case nil:
	case string:
		add(path, elem, x)
	case bool:
		add(path, elem, strconv.FormatBool(x))
	case json.Number:
		add(path, elem, x.String())
	case float64:
		add(path, elem, strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]any:
		for _, k := range sortedKeys(x) {
			flattenTerm(path+"."+strings.ToLower(k), x[k], elem, depth+1, add)
		}
	case []any:
		if elem != 0 {
			return // an array inside an element has no element numbering of its own
		}
		for i, e := range x {
			n := i + 1
			if _, ok := e.(map[string]any); ok {
				flattenTerm(path, e, n, depth+1, add)
			} else {
				flattenTerm(path+".value", e, n, depth+1, add)
			}
		}
	}
}

// TermKey is the indexed key of a term value: its FoldKey, cut to MaxTermKey
// bytes on a character boundary.
func TermKey(v string) string {
	k := FoldKey(v)
	if len(k) > MaxTermKey {
		k = k[:MaxTermKey]
		for len(k) > 0 && !utf8.ValidString(k) {
			k = k[:len(k)-1]
		}
	}
	return k
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
