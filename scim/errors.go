package scim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/orgd/orgd/orgmodel"
)

// scimError is an answer decided by this package: a status, an optional
// scimType and a detail that is safe to show.
type scimError struct {
	status   int
	scimType scimerr.ScimType
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func errStatus(status int, t scimerr.ScimType, detail string) *scimError {
	return &scimError{status: status, scimType: t, detail: detail}
}

// pathError is a PATCH path the grammar or the schema refuses.
type pathError struct{ err error }

func (e *pathError) Error() string { return e.err.Error() }

// patchError is a PATCH operation that cannot apply (noTarget,
// mutability, invalidValue, invalidSyntax, invalidPath).
type patchError struct {
	scimType scimerr.ScimType
	msg      string
}

func (e *patchError) Error() string { return e.msg }

// bodyError is a request body that is not the JSON it should be.
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

// wire is an error as SCIM clients read it (RFC 7644 §3.12).
type wire struct {
	status   int
	scimType scimerr.ScimType
	detail   string
}

// classify is the one place where an error becomes a SCIM error: the
// status, the scimType and a detail that starts with the rule id when a
// rule refused. Anything unexpected is logged with a reference and
// answered without its text.
func classify(log *slog.Logger, r *http.Request, err error) wire {
	var (
		se  *scimError
		re  *orgmodel.RuleError
		syn *syntaxError
		fe  *filterError
		pe  *pathError
		pa  *patchError
		ve  *valueError
		sc  *schemaError
		be  *bodyError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &se):
		return wire{se.status, se.scimType, se.detail}
	case errors.As(err, &pe):
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidPath, "invalid path: " + pe.err.Error()}
	case errors.As(err, &pa):
		return wire{http.StatusBadRequest, pa.scimType, pa.msg}
	case errors.As(err, &syn):
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, "invalid filter: " + syn.Error()}
	case errors.As(err, &fe):
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, fe.msg}
	case errors.As(err, &ve):
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidValue, ve.msg}
	case errors.As(err, &sc):
		t := scimerr.ScimType(sc.scimType)
		if t == "" {
			t = scimerr.ScimTypeInvalidValue
		}
		return wire{http.StatusBadRequest, t, sc.msg}
	case errors.As(err, &be):
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, be.msg}
	case errors.As(err, &mbe):
		return wire{http.StatusRequestEntityTooLarge, "", "the request body is larger than the server accepts"}
	case errors.As(err, &re):
		return ruleWire(re)
	case errors.Is(err, orgmodel.ErrConflict):
		// A uniqueness backstop that lost a race (no rule of its own).
		return wire{http.StatusConflict, scimerr.ScimTypeUniqueness, "the value is already in use (another request just took it)"}
	}
	ref := newRef()
	log.ErrorContext(r.Context(), "scim: unexpected error", "ref", ref, "method", r.Method, "path", r.URL.Path, "error", err.Error())
	return wire{http.StatusInternalServerError, "", "internal error (reference " + ref + ")"}
}

// ruleWire maps the model's refusals: the Kind decides the status; the
// detail is the error text, which starts with the rule id when one applies.
func ruleWire(re *orgmodel.RuleError) wire {
	detail := re.Error()
	switch re.Kind {
	case orgmodel.KindInvalid:
		return wire{http.StatusBadRequest, scimerr.ScimTypeInvalidValue, detail}
	case orgmodel.KindForbidden:
		return wire{http.StatusForbidden, "", detail}
	case orgmodel.KindNotFound:
		return wire{http.StatusNotFound, "", detail}
	case orgmodel.KindConflict:
		// A value another resource holds (a userName, a group's
		// displayName) is a uniqueness conflict; any other state that
		// refuses the change (the Owner cannot be deactivated, R-ROLE-4) is
		// a modification "not compatible with … current state".
		if re.Rule == "R-USER-2" || re.Field != "" {
			return wire{http.StatusConflict, scimerr.ScimTypeUniqueness, detail}
		}
		return wire{http.StatusBadRequest, scimerr.ScimTypeMutability, detail}
	case orgmodel.KindUnauthenticated:
		return wire{http.StatusUnauthorized, "", detail}
	case orgmodel.KindTooMany:
		return wire{http.StatusTooManyRequests, "", detail}
	case orgmodel.KindPrecondition:
		return wire{http.StatusPreconditionFailed, "", detail}
	}
	return wire{http.StatusInternalServerError, "", "internal error"}
}

// writeError answers err in the SCIM error schema.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(h.log, r, err)
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgd SCIM"`)
	}
	writeJSON(w, e.status, errorBody(e))
}

// errorBody is the SCIM error schema of e; status is a string (RFC 7644
// §3.12), as elimity-com/scim writes it.
func errorBody(e wire) json.RawMessage {
	b, _ := json.Marshal(scimerr.ScimError{ScimType: e.scimType, Detail: e.detail, Status: e.status})
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = errorBody(wire{status: status, detail: "internal error"})
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

const contentType = "application/scim+json"

func newRef() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
