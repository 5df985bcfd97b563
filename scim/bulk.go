package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/go-chi/chi/v5"
)

// /Bulk (RFC 7644 §3.7): operations run one after the other through the
// same handlers as single requests (so the same rules apply to each); an
// operation whose data names "bulkId:x" runs once the operation that
// creates x succeeded, whatever their order; failOnErrors stops the
// request after that many failures. Operations are not atomic together.

type bulkRequest struct {
	Schemas      []string          `json:"schemas"`
	FailOnErrors *int              `json:"failOnErrors"`
	Operations   []json.RawMessage `json:"Operations"`
}

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

func (h *handler) bulk(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r, bulkMaxPayload)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req bulkRequest
	if err := decodeJSON(b, &req); err != nil {
		h.writeError(w, r, &bodyError{"the body is not a BulkRequest: " + jsonProblem(err)})
		return
	}
	if !containsFold(req.Schemas, urnBulkReq) {
		h.writeError(w, r, &bodyError{`a bulk body must have "schemas": ["` + urnBulkReq + `"]`})
		return
	}
	if len(req.Operations) > bulkMaxOperations {
		h.writeError(w, r, errStatus(http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("a bulk request holds at most %d operations (maxOperations); this one has %d", bulkMaxOperations, len(req.Operations))))
		return
	}
	failOn := 0
	if req.FailOnErrors != nil {
		if *req.FailOnErrors < 1 {
			h.writeError(w, r, &valueError{field: "failOnErrors", msg: "failOnErrors must be 1 or more"})
			return
		}
		failOn = *req.FailOnErrors
	}

	ops := make([]bulkOp, len(req.Operations))
	results := make([]*bulkResult, len(req.Operations))
	creates := map[string]int{} // bulkId → the POST that defines it
	for i, raw := range req.Operations {
		if err := decodeJSON(raw, &ops[i]); err != nil {
			results[i] = h.bulkFail(r, "", "", &bodyError{"the operation is not an object with method, path and data"})
			continue
		}
		op := &ops[i]
		op.Method = strings.ToUpper(op.Method)
		if err := checkBulkOp(op); err != nil {
			results[i] = h.bulkFail(r, op.Method, op.BulkID, err)
			continue
		}
		if op.Method == http.MethodPost {
			if _, dup := creates[op.BulkID]; dup {
				results[i] = h.bulkFail(r, op.Method, op.BulkID, &valueError{field: "bulkId", msg: "bulkId " + op.BulkID + " is used twice"})
				continue
			}
			creates[op.BulkID] = i
		}
	}

	ids := map[string]string{} // bulkId → the id its POST created
	done := make([]bool, len(ops))
	failures := 0
	for i := range results {
		if results[i] != nil {
			done[i] = true
			failures++
		}
	}
	stopped := failOn > 0 && failures >= failOn
	for progress := true; progress && !stopped; {
		progress = false
		for i := range ops {
			if done[i] || stopped {
				continue
			}
			op := &ops[i]
			refs := bulkRefs(op)
			wait, missing := false, ""
			for _, ref := range refs {
				if _, ok := ids[ref]; ok {
					continue
				}
				if j, ok := creates[ref]; ok && !done[j] && j != i {
					wait = true
				} else {
					missing = ref
				}
			}
			if wait && missing == "" {
				continue
			}
			done[i], progress = true, true
			if missing != "" {
				results[i] = h.bulkFail(r, op.Method, op.BulkID, errStatus(http.StatusConflict, scimerr.ScimTypeInvalidValue,
					"bulkId:"+missing+" is not created by an operation of this request that succeeded"))
			} else {
				results[i] = h.bulkRun(r, op, ids)
			}
			if n, _ := strconv.Atoi(results[i].Status); n >= 400 {
				failures++
				stopped = failOn > 0 && failures >= failOn
			}
		}
	}
	// What still waits depends on itself: a circular reference.
	for i := range ops {
		if !done[i] && !stopped {
			results[i] = h.bulkFail(r, ops[i].Method, ops[i].BulkID, errStatus(http.StatusConflict, scimerr.ScimTypeInvalidValue,
				"the bulkId references of this operation are circular"))
		}
	}
	out := []*bulkResult{}
	for _, res := range results {
		if res != nil {
			out = append(out, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{urnBulkResp}, "Operations": out})
}

func checkBulkOp(op *bulkOp) error {
	switch op.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return &valueError{field: "method", msg: fmt.Sprintf("method %q is not POST, PUT, PATCH or DELETE", op.Method)}
	}
	p := op.Path
	ok := false
	for _, ep := range []string{"/Users", "/Groups"} {
		if op.Method == http.MethodPost && p == ep || op.Method != http.MethodPost && strings.HasPrefix(p, ep+"/") && len(p) > len(ep)+1 {
			ok = true
		}
	}
	if !ok {
		return &valueError{field: "path", msg: fmt.Sprintf("path %q is not /Users or /Groups (POST) or /Users/{id} or /Groups/{id}", excerpt(p))}
	}
	if op.Method == http.MethodPost && op.BulkID == "" {
		return &valueError{field: "bulkId", msg: "a POST operation needs a bulkId"}
	}
	if op.Method != http.MethodDelete && (len(op.Data) == 0 || string(op.Data) == "null") {
		return &valueError{field: "data", msg: op.Method + " needs data"}
	}
	return nil
}

// bulkRefs lists the bulkIds an operation refers to, in its path and data.
func bulkRefs(op *bulkOp) []string {
	var out []string
	add := func(s string) {
		if id, ok := strings.CutPrefix(s, "bulkId:"); ok && id != "" {
			out = append(out, id)
		}
	}
	for _, seg := range strings.Split(op.Path, "/") {
		add(seg)
	}
	var v any
	if len(op.Data) > 0 && json.Unmarshal(op.Data, &v) == nil {
		walkStrings(v, func(s string) string { add(s); return s })
	}
	return out
}

// walkStrings replaces every string of a JSON value with fn's result.
func walkStrings(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for i := range x {
			x[i] = walkStrings(x[i], fn)
		}
	case map[string]any:
		for k := range x {
			x[k] = walkStrings(x[k], fn)
		}
	}
	return v
}

func resolveRefs(s string, ids map[string]string) string {
	if id, ok := strings.CutPrefix(s, "bulkId:"); ok {
		if got, ok := ids[id]; ok {
			return got
		}
	}
	return s
}

// bulkRun performs one operation through the handlers.
func (h *handler) bulkRun(r *http.Request, op *bulkOp, ids map[string]string) *bulkResult {
	segs := strings.Split(op.Path, "/")
	for i := range segs {
		segs[i] = resolveRefs(segs[i], ids)
	}
	path := strings.Join(segs, "/")
	var body []byte
	if len(op.Data) > 0 && string(op.Data) != "null" {
		var v any
		if err := decodeJSON(op.Data, &v); err != nil {
			return h.bulkFail(r, op.Method, op.BulkID, &bodyError{"the operation's data is not JSON"})
		}
		v = walkStrings(v, func(s string) string { return resolveRefs(s, ids) })
		body, _ = json.Marshal(v)
	}
	// A fresh routing context: the sub-request is routed on its own path.
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, nil)
	sub, err := http.NewRequestWithContext(ctx, op.Method, path, bytes.NewReader(body))
	if err != nil {
		return h.bulkFail(r, op.Method, op.BulkID, &valueError{field: "path", msg: "path " + excerpt(op.Path) + " is not a path"})
	}
	sub.Header.Set("Content-Type", contentType)
	sub.RemoteAddr = r.RemoteAddr
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, sub)
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(rec.Code), Version: rec.Header().Get("ETag")}
	if rec.Code >= 400 {
		res.Response = json.RawMessage(rec.Body.Bytes())
		res.Version = ""
		return res
	}
	res.Location = rec.Header().Get("Location")
	if res.Location == "" && op.Method != http.MethodDelete {
		res.Location = h.baseOf(r) + path
	}
	if op.Method == http.MethodPost {
		var created struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &created) == nil && created.ID != "" {
			ids[op.BulkID] = created.ID
		}
	}
	return res
}

// bulkFail is a failed operation's result, its response the SCIM error.
func (h *handler) bulkFail(r *http.Request, method, bulkID string, err error) *bulkResult {
	e := classify(h.log, r, err)
	return &bulkResult{Method: method, BulkID: bulkID, Status: strconv.Itoa(e.status), Response: errorBody(e)}
}
