package scim

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/orgd/orgd/orgmodel"
)

func groupID(r *http.Request) (orgmodel.GroupSID, error) {
	id := chi.URLParam(r, "id")
	if !orgmodel.ValidSID(orgmodel.PrefixGroup, id) {
		return "", orgmodel.NotFound("group", excerpt(id))
	}
	return orgmodel.GroupSID(id), nil
}

// groupBody is a validated Group body.
type groupBody struct {
	name, externalID string
	members          []orgmodel.UserSID
	hasMembers       bool
}

func readGroup(r *http.Request) (groupBody, error) {
	body, err := readObject(r)
	if err != nil {
		return groupBody{}, err
	}
	coerce(groups.valid.Attributes, body)
	attrs, scimErr := groups.valid.Validate(body)
	if scimErr != nil {
		return groupBody{}, &schemaError{string(scimErr.ScimType), "the Group does not conform to its schema: " + scimErr.Detail}
	}
	var g groupBody
	g.name, _ = attrs["displayName"].(string)
	g.externalID, _ = attrs["externalId"].(string)
	if v, ok := body[findKey(body, "members")]; ok {
		g.hasMembers = true
		if g.members, err = memberValues(v); err != nil {
			return groupBody{}, err
		}
	}
	return g, nil
}

func (h *handler) getGroup(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := groupID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := parseProjection(groups, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	withMembers := p.wants("members")
	g, err := h.svc.GetGroup(r.Context(), a, a.OrgSID, sid, withMembers)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if notModified(w, r, g.Version) {
		return
	}
	writeResource(w, http.StatusOK, p.apply(groupDoc(g, withMembers, h.baseOf(r))), g.Version)
}

// createGroup creates a group of the organization's users (R-SCIM-1); its
// displayName is unique in the organization without regard to case.
func (h *handler) createGroup(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	p, err := parseProjection(groups, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := readGroup(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	g, err := h.svc.CreateGroup(r.Context(), a, a.OrgSID, orgmodel.GroupInput{DisplayName: in.name, ExternalID: in.externalID, Members: in.members})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	withMembers := p.wants("members")
	if withMembers && len(in.members) > 0 {
		if g, err = h.svc.GetGroup(r.Context(), a, a.OrgSID, g.SID, true); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Location", h.baseOf(r)+"/Groups/"+string(g.SID))
	writeResource(w, http.StatusCreated, p.apply(groupDoc(g, withMembers, h.baseOf(r))), g.Version)
}

// replaceGroup replaces a group's name, externalId and members (PUT).
func (h *handler) replaceGroup(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := groupID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := parseProjection(groups, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := readGroup(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	changes := []orgmodel.GroupChange{
		{Op: orgmodel.GroupRename, DisplayName: in.name},
		{Op: orgmodel.GroupSetExternalID, ExternalID: in.externalID},
		{Op: orgmodel.GroupSetMembers, Members: in.members},
	}
	g, err := h.svc.ChangeGroup(r.Context(), a, a.OrgSID, sid, changes, ifv)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	withMembers := p.wants("members")
	if withMembers {
		if g, err = h.svc.GetGroup(r.Context(), a, a.OrgSID, sid, true); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	writeResource(w, http.StatusOK, p.apply(groupDoc(g, withMembers, h.baseOf(r))), g.Version)
}

// patchGroup applies a PatchOp to a group, all operations or none; it
// answers 204 (as Entra ID asks) unless attributes or excludedAttributes
// ask for the group. The group's members are never re-read for it.
func (h *handler) patchGroup(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := groupID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	p, err := parseProjection(groups, q.Get("attributes"), q.Get("excludedAttributes"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ops, err := parsePatch(groups, b)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	changes, err := groupPatch(string(sid), ops, func() ([]orgmodel.GroupMember, error) {
		g, err := h.svc.GetGroup(r.Context(), a, a.OrgSID, sid, true)
		if err != nil {
			return nil, err
		}
		return g.Members, nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	g, err := h.svc.ChangeGroup(r.Context(), a, a.OrgSID, sid, changes, ifv)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if p.empty() {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	withMembers := p.wants("members")
	if withMembers {
		if g, err = h.svc.GetGroup(r.Context(), a, a.OrgSID, sid, true); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	writeResource(w, http.StatusOK, p.apply(groupDoc(g, withMembers, h.baseOf(r))), g.Version)
}

func (h *handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r.Context())
	sid, err := groupID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.svc.DeleteGroup(r.Context(), a, a.OrgSID, sid, ifv); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
