package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// For the external tests: every response they receive, through the SDK or
// raw, is checked against openapi.json (CheckResponse), so that the
// document describes what is served, not what was meant.

type oaDoc struct {
	raw   map[string]any
	paths map[string]map[string]any // path → method → operation
}

func loadDoc() (*oaDoc, error) {
	d := &oaDoc{paths: map[string]map[string]any{}}
	if err := json.Unmarshal(openAPIDoc, &d.raw); err != nil {
		return nil, err
	}
	paths, _ := d.raw["paths"].(map[string]any)
	for p, item := range paths {
		it, _ := item.(map[string]any)
		if ref, ok := it["$ref"].(string); ok {
			res, err := d.resolve(ref)
			if err != nil {
				return nil, fmt.Errorf("path %s: %w", p, err)
			}
			it, _ = res.(map[string]any)
		}
		ops := map[string]any{}
		for m, op := range it {
			switch m {
			case "get", "post", "put", "patch", "delete":
				ops[strings.ToUpper(m)] = op
			}
		}
		d.paths[p] = ops
	}
	return d, nil
}

// resolve follows a local JSON pointer.
func (d *oaDoc) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("ref %q is not local", ref)
	}
	var cur any = d.raw
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("ref %q does not resolve", ref)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

// DocRoutes lists the documented operations as "METHOD path".
func DocRoutes() ([]string, error) {
	d, err := loadDoc()
	if err != nil {
		return nil, err
	}
	var out []string
	for p, ops := range d.paths {
		for m := range ops {
			out = append(out, m+" "+p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DocRefs returns every $ref of the document that does not resolve.
func DocRefs() []string {
	d, err := loadDoc()
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, err := d.resolve(ref); err != nil {
					bad = append(bad, ref)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(d.raw)
	return bad
}

// ServedRoutes lists the router's routes as "METHOD path".
func ServedRoutes(cfg Config) ([]string, error) {
	var out []string
	err := chi.Walk(newRouter(cfg), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+strings.TrimSuffix(route, "/*"))
		return nil
	})
	slices.Sort(out)
	return out, err
}

// CheckResponse returns what is wrong with one response of the API
// against the document: an undocumented status, or a body that does not
// match the documented schema.
func CheckResponse(method, path string, status int, body []byte) []string {
	d, err := loadDoc()
	if err != nil {
		return []string{err.Error()}
	}
	rctx := chi.NewRouteContext()
	pattern := ""
	if newRouter(Config{}).Match(rctx, method, path) {
		pattern = rctx.RoutePattern()
	}
	op, _ := d.paths[pattern][method].(map[string]any)
	var schema any
	if op == nil {
		// No such route or method: the answer is an error body.
		schema = map[string]any{"$ref": "#/components/schemas/Error"}
		if status < 400 {
			return []string{fmt.Sprintf("%s %s answered %d without a route", method, path, status)}
		}
	} else {
		responses, _ := op["responses"].(map[string]any)
		resp, ok := responses[strconv.Itoa(status)].(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s %s: status %d is not documented", method, pattern, status)}
		}
		content, _ := resp["content"].(map[string]any)
		if content == nil {
			if len(strings.TrimSpace(string(body))) > 0 {
				return []string{fmt.Sprintf("%s %s %d: documented without a body, got %q", method, pattern, status, body)}
			}
			return nil
		}
		mt, _ := content["application/json"].(map[string]any)
		schema = mt["schema"]
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("%s %s %d: body is not JSON: %v", method, path, status, err)}
	}
	var problems []string
	d.check(schema, v, "$", &problems)
	for i := range problems {
		problems[i] = fmt.Sprintf("%s %s %d: %s", method, pattern, status, problems[i])
	}
	return problems
}

// check validates v against the subset of JSON Schema the document uses.
func (d *oaDoc) check(schema, v any, at string, problems *[]string) {
	s, _ := schema.(map[string]any)
	if s == nil {
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		res, err := d.resolve(ref)
		if err != nil {
			*problems = append(*problems, at+": "+err.Error())
			return
		}
		d.check(res, v, at, problems)
		return
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch x := t.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			*problems = append(*problems, fmt.Sprintf("%s: is %s, documented %v", at, jsonType(v), types))
			return
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		*problems = append(*problems, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	if p, ok := s["pattern"].(string); ok {
		if str, ok := v.(string); ok && !regexp.MustCompile(p).MatchString(str) {
			*problems = append(*problems, fmt.Sprintf("%s: %q does not match %s", at, str, p))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				*problems = append(*problems, fmt.Sprintf("%s: required %q is missing", at, r))
			}
		}
		for k, val := range x {
			ps, ok := props[k]
			if !ok {
				if s["additionalProperties"] == false {
					*problems = append(*problems, fmt.Sprintf("%s: %q is not documented", at, k))
				}
				continue
			}
			d.check(ps, val, at+"."+k, problems)
		}
	case []any:
		for i, item := range x {
			d.check(s["items"], item, fmt.Sprintf("%s[%d]", at, i), problems)
		}
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func asStrings(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
