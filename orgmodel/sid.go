package orgmodel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Twilio-style identifiers: two upper-case letters and 32 lower-case hex digits.
type (
	OrgSID            string // OR…
	UserSID           string // US…
	AccountSID        string // AC…, subaccounts too
	DomainSID         string // DN…
	InvitationSID     string // NF…
	RoleSID           string // IX…
	RoleAssignmentSID string // IY…
	GroupSID          string // GR…
	OAuthClientSID    string // OQ…
	APIKeySID         string // SK…
	AuditSID          string // AE…
)

// SID prefixes.
const (
	PrefixOrg            = "OR"
	PrefixUser           = "US"
	PrefixAccount        = "AC"
	PrefixDomain         = "DN"
	PrefixInvitation     = "NF"
	PrefixRole           = "IX"
	PrefixRoleAssignment = "IY"
	PrefixGroup          = "GR"
	PrefixOAuthClient    = "OQ"
	PrefixAPIKey         = "SK"
	PrefixAudit          = "AE"
)

// NewSID returns a fresh identifier with the given prefix: 48 bits of the
// time in milliseconds, then 80 bits from crypto/rand (the layout of a
// UUIDv7). Identifiers made one after the other sort one after the other,
// so every index that holds them grows at its end instead of at a random
// page: a million-user organization takes new users with a handful of
// pages written, not one page per index. A SID is a name, not a secret
// (tokens are); the time it shows is the object's creation time, which
// every representation shows anyway.
func NewSID(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic("orgmodel: crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// ValidSID reports whether s is prefix followed by 32 lower-case hex digits.
func ValidSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

var sidNames = map[string]string{
	PrefixOrg: "organization", PrefixUser: "user", PrefixAccount: "account",
	PrefixDomain: "domain", PrefixInvitation: "invitation", PrefixRole: "role",
	PrefixRoleAssignment: "role assignment", PrefixGroup: "group",
	PrefixOAuthClient: "OAuth client", PrefixAPIKey: "API key", PrefixAudit: "audit event",
}

// CheckSID returns an Invalid error naming field when s is not a SID with prefix.
func CheckSID(field, prefix, s string) error {
	if ValidSID(prefix, s) {
		return nil
	}
	if s == "" {
		return Invalid(field, "%s is required (%s SID, %s followed by 32 hex digits)", field, article(sidNames[prefix]), prefix)
	}
	shown := s
	if len(shown) > 40 {
		shown = shown[:40] + "…"
	}
	return Invalid(field, "%s %q is not %s SID (%s followed by 32 lower-case hex digits)", field, shown, article(sidNames[prefix]), prefix)
}

// article puts "a" or "an" before a noun.
func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

func (s OrgSID) check(field string) error     { return CheckSID(field, PrefixOrg, string(s)) }
func (s UserSID) check(field string) error    { return CheckSID(field, PrefixUser, string(s)) }
func (s AccountSID) check(field string) error { return CheckSID(field, PrefixAccount, string(s)) }

// randomHex returns n random bytes as lower-case hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("orgmodel: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}
