package scim

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

// userID reads the {id} of a Users path; an id that cannot be a user is
// answered like a user that does not exist.
func userID(r *http.Request) (orgmodel.UserSID, error) {
	id := chi.URLParam(r, "id")
	if !orgmodel.ValidSID(orgmodel.PrefixUser, id) {
		return "", orgmodel.NotFound("user", excerpt(id))
	}
	return orgmodel.UserSID(id), nil
}

// renderUsers renders users, loading their groups in one read when the
// projection returns them.
func (h *handler) renderUsers(r *http.Request, us []*orgmodel.User, p projection) ([]map[string]any, error) {
	a := actorOf(r.Context())
	var gs map[orgmodel.UserSID][]orgmodel.GroupRef
	withGroups := p.wants("groups")
	if withGroups && len(us) > 0 {
		sids := make([]orgmodel.UserSID, len(us))
		for i, u := range us {
			sids[i] = u.SID
		}
		var err error
		if gs, err = h.svc.GroupsOf(r.Context(), a, a.OrgSID, sids); err != nil {
			return nil, err
		}
	}
	out := make([]map[string]any, len(us))
	for i, u := range us {
		out[i] = p.apply(userDoc(u, gs[u.SID], withGroups, h.baseOf(r)))
	}
	return out, nil
}

func (h *handler) getUser(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := userID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := parseProjection(users, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.svc.GetUser(r.Context(), a, a.OrgSID, sid)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if notModified(w, r, u.Version) {
		return
	}
	docs, err := h.renderUsers(r, []*orgmodel.User{u}, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, docs[0], u.Version)
}

// createUser provisions a managed user (R-SCIM-1, R-USER-2, R-DOM-3).
func (h *handler) createUser(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	p, err := parseProjection(users, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body, err := readObject(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	attrs, err := validateUser(body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.svc.ProvisionUser(r.Context(), a, a.OrgSID, profile(attrs, true))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	doc := p.apply(userDoc(u, nil, p.wants("groups"), h.baseOf(r)))
	w.Header().Set("Location", h.baseOf(r)+"/Users/"+string(u.SID))
	writeResource(w, http.StatusCreated, doc, u.Version)
}

// replaceUser replaces a user's attributes (PUT). An absent active keeps
// the user's state; active false deactivates and ends every session
// (R-SCIM-2), refused for the Owner (R-ROLE-4).
func (h *handler) replaceUser(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := userID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := parseProjection(users, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body, err := readObject(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if id, ok := body[findKey(body, "id")].(string); ok && id != string(sid) {
		h.writeError(w, r, mutability("id is read-only: the body's id %q is not the user's", excerpt(id)))
		return
	}
	attrs, err := validateUser(body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// The replacement applies to the user as it is when written (an absent
	// active keeps its status then): without If-Match, never 412.
	u, err := h.svc.UpdateUserProfileWith(r.Context(), a, a.OrgSID, sid, ifv, func(cur *orgmodel.User) (orgmodel.Profile, error) {
		return profile(attrs, cur.Status == orgmodel.UserActive), nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	docs, err := h.renderUsers(r, []*orgmodel.User{u}, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, docs[0], u.Version)
}

// patchUser applies a PatchOp to a user, all operations or none.
func (h *handler) patchUser(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := userID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := parseProjection(users, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ops, err := parsePatch(users, b)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// The patch is applied to the user as read, and written if no other
	// write came in between (its version). Without If-Match a lost race
	// is not the client's concern: the patch is then applied again inside
	// the write transaction, to the user as it is there, where nothing can
	// change it (kept off the first try, which builds the document outside
	// the single writer).
	apply := func(cur *orgmodel.User) (orgmodel.Profile, error) {
		doc := userDoc(cur, nil, false, h.baseOf(r))
		if err := patchUser(doc, string(cur.SID), ops); err != nil {
			return orgmodel.Profile{}, err
		}
		doc["schemas"] = []any{urnUser}
		attrs, err := validateUser(doc)
		if err != nil {
			return orgmodel.Profile{}, err
		}
		return profile(attrs, cur.Status == orgmodel.UserActive), nil
	}
	cur, err := h.svc.GetUser(r.Context(), a, a.OrgSID, sid)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if ifv > 0 && cur.Version != ifv {
		h.writeError(w, r, errStatus(http.StatusPreconditionFailed, "", "the user was changed since the version given in If-Match"))
		return
	}
	prof, err := apply(cur)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.svc.UpdateUserProfile(r.Context(), a, a.OrgSID, sid, prof, cur.Version)
	if orgmodel.KindOf(err) == orgmodel.KindPrecondition && ifv == 0 {
		u, err = h.svc.UpdateUserProfileWith(r.Context(), a, a.OrgSID, sid, 0, apply)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	docs, err := h.renderUsers(r, []*orgmodel.User{u}, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, docs[0], u.Version)
}

// deleteUser deprovisions a user: removed from the organization, every
// session ended (R-SCIM-2); refused for the Owner (R-ROLE-4).
func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := userID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.svc.DeprovisionUserVersion(r.Context(), a, a.OrgSID, sid, ifv); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
