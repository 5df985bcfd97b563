package scim

import (
	"fmt"
	"strings"
)

// projection is what the attributes / excludedAttributes parameters ask
// for (RFC 7644 §3.4.2.5, §3.9). id and schemas are always returned
// (returned "always"); nothing "never" returned is ever stored.
type projection struct {
	include []attrSel // nil: everything returned by default
	exclude []attrSel
}

// attrSel names an attribute, a sub-attribute, or an extension (all of it
// when name is "").
type attrSel struct {
	ext  string // the extension URN, or "" for the core schema
	name string // canonical attribute name; "" for a whole extension
	sub  string // canonical sub-attribute name, or ""
}

func parseProjection(r *resource, attributes, excluded string) (projection, error) {
	var p projection
	var err error
	if strings.TrimSpace(attributes) != "" {
		if p.include, err = parseSels(r, attributes); err != nil {
			return p, err
		}
	}
	if strings.TrimSpace(excluded) != "" {
		if p.exclude, err = parseSels(r, excluded); err != nil {
			return p, err
		}
	}
	return p, nil
}

func parseSels(r *resource, list string) ([]attrSel, error) {
	var out []attrSel
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if s, ok := r.ext(item); ok {
			out = append(out, attrSel{ext: s.ID})
			continue
		}
		p, err := ParsePath(item)
		if err != nil || p.ValueExpression != nil {
			return nil, &valueError{field: "attributes", msg: fmt.Sprintf("%q is not an attribute name", item)}
		}
		ap := p.AttributePath
		switch strings.ToLower(ap.AttributeName) {
		case "id", "externalid", "meta", "schemas":
			if ap.URIPrefix == nil || strings.EqualFold(ap.URI(), r.core.ID) {
				out = append(out, attrSel{name: commonNames[strings.ToLower(ap.AttributeName)], sub: ap.SubAttributeName()})
				continue
			}
		}
		ref, ok := r.lookup(ap.URI(), ap.AttributeName, "")
		if !ok {
			continue // an attribute this resource does not have is simply not returned
		}
		sel := attrSel{name: ref.attr.Name()}
		if ref.ext {
			sel.ext = ref.schemaID
		}
		if sub := ap.SubAttributeName(); sub != "" {
			sa, ok := ref.attr.SubAttributes().ContainsAttribute(sub)
			if !ok {
				continue
			}
			sel.sub = sa.Name()
		}
		out = append(out, sel)
	}
	return out, nil
}

// wants reports whether the top-level core attribute name is returned,
// so that what it costs to load is spent only when it is.
func (p projection) wants(name string) bool {
	if p.include != nil {
		found := false
		for _, s := range p.include {
			if s.ext == "" && strings.EqualFold(s.name, name) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	for _, s := range p.exclude {
		if s.ext == "" && strings.EqualFold(s.name, name) && s.sub == "" {
			return false
		}
	}
	return true
}

func (p projection) empty() bool { return p.include == nil && p.exclude == nil }

// apply returns doc reduced to what p asks for.
func (p projection) apply(doc map[string]any) map[string]any {
	if p.empty() {
		return doc
	}
	out := doc
	if p.include != nil {
		out = map[string]any{}
		for _, k := range []string{"id", "schemas"} {
			if v, ok := doc[k]; ok {
				out[k] = v
			}
		}
		for _, s := range p.include {
			copySel(out, doc, s)
		}
	}
	for _, s := range p.exclude {
		if s.ext == "" && (s.name == "id" || s.name == "schemas") {
			continue
		}
		dropSel(out, s)
	}
	return out
}

// scope returns the object a selection's attribute lives in.
func scope(doc map[string]any, s attrSel) map[string]any {
	if s.ext == "" {
		return doc
	}
	m, _ := doc[findKey(doc, s.ext)].(map[string]any)
	return m
}

func copySel(dst, src map[string]any, s attrSel) {
	if s.name == "" { // a whole extension
		k := findKey(src, s.ext)
		if v, ok := src[k]; ok {
			dst[k] = v
		}
		return
	}
	from := scope(src, s)
	if from == nil {
		return
	}
	k := findKey(from, s.name)
	v, ok := from[k]
	if !ok {
		return
	}
	to := dst
	if s.ext != "" {
		ek := findKey(src, s.ext)
		m, _ := dst[ek].(map[string]any)
		if m == nil {
			m = map[string]any{}
			dst[ek] = m
		}
		to = m
	}
	if s.sub == "" {
		to[k] = v
		return
	}
	switch x := v.(type) {
	case map[string]any:
		sk := findKey(x, s.sub)
		if sv, ok := x[sk]; ok {
			m, _ := to[k].(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			m[sk] = sv
			to[k] = m
		}
	case []any:
		cur, _ := to[k].([]any)
		list := make([]any, len(x))
		for i, e := range x {
			em, _ := e.(map[string]any)
			nm := map[string]any{}
			if i < len(cur) {
				if cm, ok := cur[i].(map[string]any); ok {
					nm = cm
				}
			}
			if em != nil {
				sk := findKey(em, s.sub)
				if sv, ok := em[sk]; ok {
					nm[sk] = sv
				}
			}
			list[i] = nm
		}
		to[k] = list
	}
}

func dropSel(doc map[string]any, s attrSel) {
	if s.name == "" {
		delete(doc, findKey(doc, s.ext))
		return
	}
	in := scope(doc, s)
	if in == nil {
		return
	}
	k := findKey(in, s.name)
	if s.sub == "" {
		delete(in, k)
		return
	}
	switch x := in[k].(type) {
	case map[string]any:
		// Copy: the document may share maps with what was loaded.
		c := make(map[string]any, len(x))
		for kk, v := range x {
			if !strings.EqualFold(kk, s.sub) {
				c[kk] = v
			}
		}
		in[k] = c
	case []any:
		list := make([]any, len(x))
		for i, e := range x {
			em, ok := e.(map[string]any)
			if !ok {
				list[i] = e
				continue
			}
			c := make(map[string]any, len(em))
			for kk, v := range em {
				if !strings.EqualFold(kk, s.sub) {
					c[kk] = v
				}
			}
			list[i] = c
		}
		in[k] = list
	}
}
