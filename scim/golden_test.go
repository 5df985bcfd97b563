package scim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the responses of the golden files under testdata/golden from what the server answers")

// golden is a replay of a documented identity-provider flow: the requests
// as the IdP's documentation shows them (ids, userNames and domains adapted
// to this server), and the responses this server gives, reviewed and kept.
type golden struct {
	Source  string   `json:"source"`
	Notes   string   `json:"notes,omitempty"`
	Domains []string `json:"domains,omitempty"` // verified for the organization besides acme.test
	Steps   []step   `json:"steps"`
}

type step struct {
	Name    string            `json:"name"`
	Request request           `json:"request"`
	Capture string            `json:"capture,omitempty"` // name the response's id {{capture}}
	SortBy  string            `json:"sortResourcesBy,omitempty"`
	Expect  *expectedResponse `json:"response"`
}

type request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type expectedResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// goldenHeaders are the response headers a replay compares.
var goldenHeaders = []string{"Content-Type", "ETag", "Location", "WWW-Authenticate"}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) { replay(t, f) })
	}
}

func replay(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(raw, &g))
	e := newEnv(t)
	for _, d := range g.Domains {
		e.verify(e.org, d)
	}
	vars := map[string]string{"owner": string(e.owner)}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
	for i := range g.Steps {
		s := &g.Steps[i]
		e.clock.Add(time.Minute)
		req := httptest.NewRequest(s.Request.Method, "http://orgd.test"+expand(s.Request.Path), bytes.NewReader([]byte(expand(string(s.Request.Body)))))
		req.Header.Set("Authorization", "Bearer "+e.token)
		if len(s.Request.Body) > 0 {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		for k, v := range s.Request.Headers {
			if v == "" {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, expand(v))
			}
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if s.Capture != "" {
			var created struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created), "step %q: %s", s.Name, rec.Body)
			require.NotEmpty(t, created.ID, "step %q", s.Name)
			vars[s.Capture] = created.ID
		}
		got := observed(t, rec, vars, s.SortBy)
		if *update {
			s.Expect = got
			continue
		}
		require.NotNil(t, s.Expect, "step %q has no response: run go test -run TestGolden -update", s.Name)
		assert.Equal(t, s.Expect.Status, got.Status, "step %q: %s", s.Name, rec.Body)
		assert.Equal(t, s.Expect.Headers, got.Headers, "step %q", s.Name)
		if len(s.Expect.Body) > 0 || len(got.Body) > 0 {
			assert.JSONEq(t, string(s.Expect.Body), string(got.Body), "step %q", s.Name)
		}
	}
	if *update {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(g))
		require.NoError(t, os.WriteFile(file, b.Bytes(), 0o644))
	}
}

// sortLists orders members and groups by display: they are listed by id,
// which differs from run to run.
func sortLists(v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			sortLists(e)
		}
	case map[string]any:
		for k, e := range x {
			if l, ok := e.([]any); ok && (k == "members" || k == "groups") {
				sort.SliceStable(l, func(i, j int) bool {
					a, _ := l[i].(map[string]any)["display"].(string)
					b, _ := l[j].(map[string]any)["display"].(string)
					return a < b
				})
			}
			sortLists(e)
		}
	}
}

// observed is a response with the run's ids written as their placeholders.
func observed(t *testing.T, rec *httptest.ResponseRecorder, vars map[string]string, sortBy string) *expectedResponse {
	// Longest first, so that no id is replaced inside another.
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return len(vars[names[i]]) > len(vars[names[j]]) })
	norm := func(s string) string {
		for _, k := range names {
			s = strings.ReplaceAll(s, vars[k], "{{"+k+"}}")
		}
		return s
	}
	out := &expectedResponse{Status: rec.Code, Headers: map[string]string{}}
	for _, h := range goldenHeaders {
		if v := rec.Header().Get(h); v != "" {
			out.Headers[h] = norm(v)
		}
	}
	if len(out.Headers) == 0 {
		out.Headers = nil
	}
	if rec.Body.Len() > 0 {
		var v any
		require.NoError(t, json.Unmarshal([]byte(norm(rec.Body.String())), &v))
		sortLists(v)
		if m, ok := v.(map[string]any); ok && sortBy != "" {
			if rs, ok := m["Resources"].([]any); ok {
				sort.SliceStable(rs, func(i, j int) bool {
					a, _ := rs[i].(map[string]any)[sortBy].(string)
					b, _ := rs[j].(map[string]any)[sortBy].(string)
					return a < b
				})
			}
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		out.Body = json.RawMessage(bytes.TrimSpace(b.Bytes()))
	}
	return out
}
