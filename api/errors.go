package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

// Twilio error codes this API answers with (https://www.twilio.com/docs/errors/<code>).
const (
	codeAuthentication      = 20003 // 401: missing or wrong credentials
	codeMethodNotAllowed    = 20004
	codeForbidden           = 20403 // 403: the credential may not do this
	codeNotFound            = 20404
	codeTooMany             = 20429
	codeInternal            = 20500
	codeAccountsResource    = 21100 // a request to the Accounts resource could not be completed
	codeSubaccountsNested   = 21101 // subaccounts cannot contain subaccounts (R-HIER-1)
	codeParentSuspended     = 21476 // subaccount status under a parent that is not active (R-ACCT-9)
	codeParentStatus        = 21477 // status updates are restricted to subaccounts
	codeSubaccountClosed    = 21479 // a closed subaccount cannot be re-opened (R-ACCT-9)
	codeSubaccountLimit     = 21480 // maximum number of subaccounts reached (R-HIER-4)
	codeBadRequest          = 400   // Organizations API: generic bad request
	codeOrgNotFound         = 25100
	codeOrgAccountNotFound  = 25101
	codeAssignmentScope     = 25200
	codeAssignmentIdentity  = 25201
	codeAssignmentRole      = 25202
	codeOAuthInvalidRequest = 400 // token endpoint: generic bad request
)

// coded picks the Twilio code (and, when status is not 0, the HTTP status)
// of a refusal whose kind and rule alone do not tell Twilio's clients
// enough, for example 21479 against 21476 for R-ACCT-9.
type coded struct {
	err    error
	code   int
	status int
	oauth  string // the token endpoint's RFC 6749 error, when not the kind's
}

func (c *coded) Error() string { return c.err.Error() }
func (c *coded) Unwrap() error { return c.err }

func withCode(err error, code, status int) error {
	if err == nil {
		return nil
	}
	return &coded{err: err, code: code, status: status}
}

func tooLarge(limit int64) error {
	return withCode(orgmodel.Invalid("body", "the request body is larger than %d bytes", limit), 0, http.StatusRequestEntityTooLarge)
}

// errorBody is Twilio's error JSON. Details carries what orgd adds: the
// rule that refused (also at the head of the message), the input field
// and, for unexpected errors, the reference to find them in the log. The
// token endpoint adds RFC 6749's error and error_description.
type errorBody struct {
	Code             int               `json:"code"`
	Message          string            `json:"message"`
	MoreInfo         string            `json:"more_info"`
	Status           int               `json:"status"`
	Details          map[string]string `json:"details,omitempty"`
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"error_description,omitempty"`
}

type area int

const (
	areaOther area = iota
	areaAccounts
	areaOrganizations
	areaToken
)

func areaOf(r *http.Request) area {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/2010-04-01/"):
		return areaAccounts
	case strings.HasPrefix(p, "/Organizations/"):
		return areaOrganizations
	case p == "/v2/token":
		return areaToken
	}
	return areaOther
}

// writeError is the one place where an error becomes Twilio's wire format.
// Refusals keep their rule id; unexpected errors are logged with a
// reference and answered with that reference only.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ar := areaOf(r)
	var re *orgmodel.RuleError
	if !errors.As(err, &re) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooLarge(mbe.Limit)
			errors.As(err, &re)
		}
	}
	b := errorBody{Details: map[string]string{}}
	kind := orgmodel.KindOf(err)
	switch kind {
	case orgmodel.KindInvalid:
		b.Status, b.Code = http.StatusBadRequest, codeBadRequest
		if ar == areaAccounts {
			b.Code = codeAccountsResource
		}
		b.Error = "invalid_request"
	case orgmodel.KindConflict:
		// Twilio answers refusals by an object's state with 400 and a code.
		b.Status, b.Code = http.StatusBadRequest, codeBadRequest
		if ar == areaAccounts {
			b.Code = codeAccountsResource
		}
		b.Error = "invalid_request"
	case orgmodel.KindForbidden:
		b.Status, b.Code = http.StatusForbidden, codeForbidden
		b.Error = "unauthorized_client"
	case orgmodel.KindNotFound:
		b.Status, b.Code = http.StatusNotFound, codeNotFound
	case orgmodel.KindUnauthenticated:
		b.Status, b.Code = http.StatusUnauthorized, codeAuthentication
		b.Error = "invalid_client"
	case orgmodel.KindTooMany:
		b.Status, b.Code = http.StatusTooManyRequests, codeTooMany
	case orgmodel.KindPrecondition:
		b.Status, b.Code = http.StatusPreconditionFailed, codeBadRequest
	default:
		b.Status, b.Code = http.StatusInternalServerError, codeInternal
		b.Error = "server_error"
	}
	if re != nil {
		b.Message = re.Error()
		if re.Rule != "" {
			b.Details["rule"] = re.Rule
		}
		if re.Field != "" {
			b.Details["field"] = re.Field
		}
		switch re.Rule {
		case "R-HIER-1":
			b.Code = codeSubaccountsNested
		case "R-HIER-4":
			b.Code = codeSubaccountLimit
		}
		if ar == areaOrganizations && kind == orgmodel.KindInvalid {
			switch re.Field {
			case "role_sid":
				b.Code = codeAssignmentRole
			case "scope":
				b.Code = codeAssignmentScope
			case "identity":
				b.Code = codeAssignmentIdentity
			}
		}
	}
	switch kind {
	case orgmodel.KindNotFound:
		if ar == areaAccounts || ar == areaOther {
			// Twilio's wording; it names the path, never whether the
			// object exists elsewhere.
			b.Message = "The requested resource " + r.URL.Path + " was not found"
		}
	case orgmodel.KindUnauthenticated:
		b.Message = "Authentication Error - " + re.Msg
		switch ar {
		case areaOrganizations:
			w.Header().Set("WWW-Authenticate", `Bearer realm="orgd", error="invalid_token"`)
		case areaToken:
			if _, _, ok := r.BasicAuth(); ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="orgd"`)
			}
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		}
	case orgmodel.KindInternal:
		ref := reference()
		h.log.ErrorContext(r.Context(), "api: unexpected error", "ref", ref, "method", r.Method,
			"route", routePattern(r), "err", err)
		b.Message = "internal server error (reference " + ref + ")"
		b.Details = map[string]string{"reference": ref}
	}
	var c *coded
	if errors.As(err, &c) {
		if c.code != 0 {
			b.Code = c.code
		}
		if c.status != 0 {
			b.Status = c.status
		}
		if c.oauth != "" {
			b.Error = c.oauth
		}
	}
	if ar == areaToken {
		b.ErrorDescription = b.Message
		if b.Status == http.StatusNotFound || b.Status == http.StatusMethodNotAllowed {
			b.Error = "invalid_request"
		}
	} else {
		b.Error = ""
	}
	if len(b.Details) == 0 {
		b.Details = nil
	}
	b.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(b.Code)
	body, merr := json.Marshal(b)
	if merr != nil {
		body = []byte(`{"code":20500,"message":"internal server error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`)
		b.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(b.Status)
	_, _ = w.Write(append(body, '\n'))
}

func reference() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// invalidForm is the refusal of a body that does not parse.
func invalidForm(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return orgmodel.Invalid("body", "the request body is not valid %s", what)
}

func invalidParam(name, format string, args ...any) error {
	return orgmodel.Invalid(name, "%s", fmt.Sprintf(format, args...))
}
