package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// listParams are a query's parameters, from the URL (GET) or a
// SearchRequest body (POST …/.search).
type listParams struct {
	filter, sortBy, sortOrder string
	attributes, excluded      string
	startIndex, count         int
}

// pageOf maps startIndex/count onto offset/limit (RFC 7644 §3.4.2.4):
// startIndex below 1 is 1, count below 0 is 0, above maxResults is
// maxResults.
func (lp listParams) pageOf() (offset, limit int) {
	return lp.startIndex - 1, lp.count
}

func queryParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"),
		attributes: q.Get("attributes"), excluded: q.Get("excludedAttributes"), startIndex: 1, count: defaultCount}
	var err error
	if s := q.Get("startIndex"); s != "" {
		if lp.startIndex, err = strconv.Atoi(s); err != nil {
			return lp, &valueError{field: "startIndex", msg: fmt.Sprintf("startIndex %q is not an integer", excerpt(s))}
		}
	}
	if s := q.Get("count"); s != "" {
		if lp.count, err = strconv.Atoi(s); err != nil {
			return lp, &valueError{field: "count", msg: fmt.Sprintf("count %q is not an integer", excerpt(s))}
		}
	}
	lp.clamp()
	return lp, nil
}

func (lp *listParams) clamp() {
	lp.startIndex = max(lp.startIndex, 1)
	lp.count = min(max(lp.count, 0), maxResults)
}

// searchRequest is the body of POST …/.search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string        `json:"schemas"`
	Attributes         json.RawMessage `json:"attributes"`
	ExcludedAttributes json.RawMessage `json:"excludedAttributes"`
	Filter             string          `json:"filter"`
	SortBy             string          `json:"sortBy"`
	SortOrder          string          `json:"sortOrder"`
	StartIndex         *int            `json:"startIndex"`
	Count              *int            `json:"count"`
}

// attrList reads attributes given as a list of names or as one
// comma-separated string.
func attrList(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return strings.Join(list, ","), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	return "", &valueError{field: "attributes", msg: "attributes and excludedAttributes are lists of attribute names"}
}

func searchParams(r *http.Request) (listParams, error) {
	b, err := readBody(r, maxBody)
	if err != nil {
		return listParams{}, err
	}
	var sr searchRequest
	if err := decodeJSON(b, &sr); err != nil {
		return listParams{}, &bodyError{"the body is not a SearchRequest: " + jsonProblem(err)}
	}
	if !containsFold(sr.Schemas, urnSearch) {
		return listParams{}, &bodyError{`a search body must have "schemas": ["` + urnSearch + `"]`}
	}
	lp := listParams{filter: sr.Filter, sortBy: sr.SortBy, sortOrder: sr.SortOrder, startIndex: 1, count: defaultCount}
	if sr.StartIndex != nil {
		lp.startIndex = *sr.StartIndex
	}
	if sr.Count != nil {
		lp.count = *sr.Count
	}
	if lp.attributes, err = attrList(sr.Attributes); err != nil {
		return lp, err
	}
	if lp.excluded, err = attrList(sr.ExcludedAttributes); err != nil {
		return lp, err
	}
	lp.clamp()
	return lp, nil
}

// listResponse is a ListResponse; itemsPerPage is the number of
// resources in this page, as RFC 7644 §3.4.2 defines it.
func listResponse(total, startIndex int, resources []map[string]any) map[string]any {
	if resources == nil {
		resources = []map[string]any{}
	}
	return map[string]any{
		"schemas":      []string{urnList},
		"totalResults": total,
		"startIndex":   startIndex,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
}

func compileQuery(r *resource, lp listParams) (orgmodel.Query, projection, error) {
	var q orgmodel.Query
	cond, err := compileFilter(r, lp.filter)
	if err != nil {
		return q, projection{}, err
	}
	sort, err := compileSort(r, lp.sortBy, lp.sortOrder)
	if err != nil {
		return q, projection{}, err
	}
	p, err := parseProjection(r, lp.attributes, lp.excluded)
	if err != nil {
		return q, projection{}, err
	}
	q.Cond, q.Sort = cond, sort
	q.Offset, q.Limit = lp.pageOf()
	return q, p, nil
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) {
	lp, err := queryParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.queryUsers(w, r, lp)
}

func (h *handler) searchUsers(w http.ResponseWriter, r *http.Request) {
	lp, err := searchParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.queryUsers(w, r, lp)
}

func (h *handler) queryUsers(w http.ResponseWriter, r *http.Request, lp listParams) {
	docs, total, err := h.findUsers(r, lp)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, docs))
}

func (h *handler) findUsers(r *http.Request, lp listParams) ([]map[string]any, int, error) {
	a := actorOf(r.Context())
	q, p, err := compileQuery(users, lp)
	if err != nil {
		return nil, 0, err
	}
	us, total, err := h.svc.SearchUsers(r.Context(), a, a.OrgSID, q)
	if err != nil {
		return nil, 0, err
	}
	docs, err := h.renderUsers(r, us, p)
	return docs, total, err
}

func (h *handler) listGroups(w http.ResponseWriter, r *http.Request) {
	lp, err := queryParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.queryGroups(w, r, lp)
}

func (h *handler) searchGroups(w http.ResponseWriter, r *http.Request) {
	lp, err := searchParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.queryGroups(w, r, lp)
}

func (h *handler) queryGroups(w http.ResponseWriter, r *http.Request, lp listParams) {
	docs, total, err := h.findGroups(r, lp)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, docs))
}

func (h *handler) findGroups(r *http.Request, lp listParams) ([]map[string]any, int, error) {
	a := actorOf(r.Context())
	q, p, err := compileQuery(groups, lp)
	if err != nil {
		return nil, 0, err
	}
	q.Members = p.wants("members")
	gs, total, err := h.svc.SearchGroups(r.Context(), a, a.OrgSID, q)
	if err != nil {
		return nil, 0, err
	}
	docs := make([]map[string]any, len(gs))
	for i, g := range gs {
		docs[i] = p.apply(groupDoc(g, q.Members, h.baseOf(r)))
	}
	return docs, total, nil
}

// rootSearch queries Users and Groups together (RFC 7644 §3.4.2.1): the
// users that match, then the groups, paged as one list. An attribute a
// type does not have is taken as having no value there.
func (h *handler) rootSearch(w http.ResponseWriter, r *http.Request) {
	var lp listParams
	var err error
	if r.Method == http.MethodPost {
		lp, err = searchParams(r)
	} else {
		lp, err = queryParams(r)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if lp.sortBy != "" {
		h.writeError(w, r, &valueError{field: "sortBy", msg: "sortBy is not supported across resource types; search /Users or /Groups to sort"})
		return
	}
	a := actorOf(r.Context())
	uq, up, err := compileQuery(users, listParams{sortBy: lp.sortBy, sortOrder: lp.sortOrder, attributes: lp.attributes, excluded: lp.excluded})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	gq, gp, err := compileQuery(groups, listParams{attributes: lp.attributes, excluded: lp.excluded})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if uq.Cond, err = compileRootFilter(users, lp.filter); err != nil {
		h.writeError(w, r, err)
		return
	}
	if gq.Cond, err = compileRootFilter(groups, lp.filter); err != nil {
		h.writeError(w, r, err)
		return
	}
	offset, limit := lp.pageOf()
	var docs []map[string]any
	total := 0
	{
		uq.Offset, uq.Limit = offset, limit
		us, n, err := h.svc.SearchUsers(r.Context(), a, a.OrgSID, uq)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		ud, err := h.renderUsers(r, us, up)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		docs, total = ud, n
	}
	{
		// The groups continue the list after the users.
		gq.Offset = max(offset-total, 0)
		gq.Limit = max(limit-len(docs), 0)
		gq.Members = gp.wants("members")
		gs, n, err := h.svc.SearchGroups(r.Context(), a, a.OrgSID, gq)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		for _, g := range gs {
			docs = append(docs, gp.apply(groupDoc(g, gq.Members, h.baseOf(r))))
		}
		total += n
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, docs))
}

// Discovery (RFC 7644 §4): a filter on these endpoints is refused with
// 403, so that a client never believes it was applied.
func (h *handler) discoveryFiltered(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Has("filter") {
		h.writeError(w, r, errStatus(http.StatusForbidden, "", "discovery endpoints take no filter"))
		return true
	}
	return false
}

func (h *handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	if h.discoveryFiltered(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, spConfig(h.baseOf(r)))
}

func (h *handler) resourceTypes(w http.ResponseWriter, r *http.Request) {
	if h.discoveryFiltered(w, r) {
		return
	}
	docs := []map[string]any{resourceTypeDoc(users, h.baseOf(r)), resourceTypeDoc(groups, h.baseOf(r))}
	writeJSON(w, http.StatusOK, listResponse(len(docs), 1, docs))
}

func (h *handler) resourceType(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	for _, rt := range []*resource{users, groups} {
		if strings.EqualFold(rt.name, name) {
			writeJSON(w, http.StatusOK, resourceTypeDoc(rt, h.baseOf(r)))
			return
		}
	}
	h.writeError(w, r, errStatus(http.StatusNotFound, "", "no resource type "+excerpt(name)))
}

func (h *handler) schemas(w http.ResponseWriter, r *http.Request) {
	if h.discoveryFiltered(w, r) {
		return
	}
	var docs []map[string]any
	for _, s := range allSchemas() {
		docs = append(docs, schemaDoc(s, h.baseOf(r)))
	}
	writeJSON(w, http.StatusOK, listResponse(len(docs), 1, docs))
}

func (h *handler) schema(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	for _, s := range allSchemas() {
		if strings.EqualFold(s.ID, id) {
			writeJSON(w, http.StatusOK, schemaDoc(s, h.baseOf(r)))
			return
		}
	}
	h.writeError(w, r, errStatus(http.StatusNotFound, "", "no schema "+excerpt(id)))
}
