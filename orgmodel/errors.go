package orgmodel

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that each adapter can pick its status code
// without reading the message. Append new kinds at the end only: adapters
// and stored references may depend on the numbers.
type Kind uint8

const (
	KindInternal        Kind = iota // unexpected; never caused by the client
	KindInvalid                     // malformed or out-of-range input
	KindForbidden                   // the actor may not do this, or a rule refuses it
	KindNotFound                    // no such object visible to the actor
	KindConflict                    // the object's current state refuses the change
	KindUnauthenticated             // missing, wrong, expired or revoked credential
	KindTooMany                     // rate limit or lockout
	KindPrecondition                // a version / ETag precondition failed
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindTooMany:
		return "too_many"
	case KindPrecondition:
		return "precondition"
	}
	return "internal"
}

// RuleError is every error orgmodel returns for a client's request. Rule is
// the RULES.md id that refused it ("" when the refusal is plain input
// validation or a missing object); Field names the input that was wrong,
// when one was. Msg is safe to show to the client.
type RuleError struct {
	Rule  string
	Kind  Kind
	Field string
	Msg   string
}

func (e *RuleError) Error() string {
	if e.Rule != "" {
		return e.Rule + ": " + e.Msg
	}
	return e.Msg
}

// Is makes errors.Is(err, ErrNotFound) true for every not-found RuleError.
func (e *RuleError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Kind == KindNotFound
	case ErrConflict:
		return e.Kind == KindConflict
	}
	return false
}

var (
	// ErrNotFound is returned by Store reads that miss; the service turns it
	// into a RuleError that names the object.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned by Store writes that hit a uniqueness constraint
	// that maps to no rule.
	ErrConflict = errors.New("conflict")
	// ErrRetry is returned by Store when a transaction lost a race it may
	// win if run again (serialization failure, deadlock, busy database).
	ErrRetry = errors.New("transaction must be retried")
)

// Breaks returns the error for a refusal by rule.
func Breaks(rule string, kind Kind, format string, args ...any) *RuleError {
	return &RuleError{Rule: rule, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Invalid returns the error for a malformed input field.
func Invalid(field, format string, args ...any) *RuleError {
	return &RuleError{Kind: KindInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFound returns the error for an object the actor cannot see. The same
// answer is given whether it exists elsewhere or not at all.
func NotFound(what, id string) *RuleError {
	if id == "" {
		return &RuleError{Kind: KindNotFound, Msg: what + " not found"}
	}
	return &RuleError{Kind: KindNotFound, Msg: fmt.Sprintf("%s %s not found", what, id)}
}

// Unauthenticated returns the error for a bad credential; msg never says
// which part of the credential was wrong.
func Unauthenticated(msg string) *RuleError {
	return &RuleError{Kind: KindUnauthenticated, Msg: msg}
}

// RuleOf returns the rule id carried by err, or "".
func RuleOf(err error) string {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Rule
	}
	return ""
}

// KindOf returns the kind of err; errors that are not RuleErrors are internal.
func KindOf(err error) Kind {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Kind
	}
	return KindInternal
}

// withRule attaches rule to a not-yet-ruled RuleError (used to name the rule
// on which a lookup failed).
func withRule(err error, rule string) error {
	var re *RuleError
	if errors.As(err, &re) && re.Rule == "" {
		c := *re
		c.Rule = rule
		return &c
	}
	return err
}
