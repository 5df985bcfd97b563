package orgmodel

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits.
const (
	MaxNameLen     = 255 // friendly names (Twilio: 1..255 for accounts in an organization)
	MaxEmailLen    = 254 // RFC 5321 path limit
	MaxDomainLen   = 253
	MinPasswordLen = 12
	MaxPasswordLen = 256 // bounds the work an argon2 hash does for an attacker's input
)

// CheckName validates a friendly name: present, at most MaxNameLen
// characters, no control characters. It returns the trimmed name.
func CheckName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "%s must not be empty", field)
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLen {
		return "", Invalid(field, "%s is %d characters long; the limit is %d", field, n, MaxNameLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", Invalid(field, "%s must not contain control characters", field)
		}
	}
	return s, nil
}

// NormalizeEmail checks that s is one bare address (no display name, no
// angle brackets) with a valid domain, and returns it with the domain folded
// to lower case. The local part keeps its case for display; uniqueness is
// decided on EmailKey.
func NormalizeEmail(field, s string) (string, error) {
	if s == "" {
		return "", Invalid(field, "%s is required", field)
	}
	if len(s) > MaxEmailLen {
		return "", Invalid(field, "%s is longer than %d bytes", field, MaxEmailLen)
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return "", Invalid(field, "%s %q is not an email address (spaces, quotes, brackets and lists are not accepted)", field, s)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", Invalid(field, "%s %q is not an email address", field, s)
	}
	at := strings.LastIndexByte(s, '@')
	local, dom := s[:at], s[at+1:]
	if local == "" || len(local) > 64 {
		return "", Invalid(field, "%s %q has an empty or over-long local part", field, s)
	}
	for _, r := range local {
		if r > unicode.MaxASCII {
			return "", Invalid(field, "%s %q has non-ASCII characters in its local part", field, s)
		}
	}
	nd, err := NormalizeDomain(field, dom)
	if err != nil {
		var re *RuleError
		if asRule(err, &re) {
			return "", Invalid(field, "%s %q has an invalid domain: %s", field, s, re.Msg)
		}
		return "", err
	}
	return local + "@" + nd, nil
}

// EmailKey is the form on which emails are unique: case folded throughout.
func EmailKey(email string) string { return strings.ToLower(email) }

// EmailDomain returns the part after the last '@', lower-cased.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}

// NormalizeDomain applies R-DOM-2's input rules: bare names only (no scheme,
// path, port, "www." prefix or trailing dot, no spaces), upper case folded,
// ASCII labels (IDNs in their xn-- form), at least two labels, no IP address.
// It does not check the common-mail list; see CheckRegistrableDomain.
func NormalizeDomain(field, s string) (string, error) {
	bad := func(format string, args ...any) error {
		e := Breaks("R-DOM-2", KindInvalid, format, args...)
		e.Field = field
		return e
	}
	if s == "" {
		return "", bad("%s is required", field)
	}
	if len(s) > MaxDomainLen {
		return "", bad("%s is longer than %d characters", field, MaxDomainLen)
	}
	switch {
	case strings.Contains(s, "://"):
		return "", bad("%s %q has a scheme; enter the bare domain, such as corp.example", field, s)
	case strings.ContainsAny(s, " \t\r\n"):
		return "", bad("%s %q contains spaces", field, s)
	case strings.ContainsAny(s, "/?#"):
		return "", bad("%s %q has a path; enter the bare domain", field, s)
	case strings.Contains(s, ":"):
		return "", bad("%s %q has a port; enter the bare domain", field, s)
	case strings.Contains(s, "@"):
		return "", bad("%s %q is an email address; enter only the part after @", field, s)
	case strings.HasSuffix(s, "."):
		return "", bad("%s %q ends with a dot; enter it without the trailing dot", field, s)
	}
	for _, r := range s {
		if r > unicode.MaxASCII {
			return "", bad("%s %q is an internationalised name; enter its ASCII (xn--) form", field, s)
		}
	}
	d := strings.ToLower(s)
	if strings.HasPrefix(d, "www.") {
		return "", bad("%s %q starts with www.; enter %s", field, s, strings.TrimPrefix(d, "www."))
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad("%s %q is not a registrable domain (it needs at least two labels, such as corp.example)", field, s)
	}
	for _, l := range labels {
		if l == "" {
			return "", bad("%s %q has an empty label", field, s)
		}
		if len(l) > 63 {
			return "", bad("%s %q has a label longer than 63 characters", field, s)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("%s %q has a label that starts or ends with a hyphen", field, s)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", bad("%s %q has a character that is not a letter, digit or hyphen", field, s)
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return "", bad("%s %q is an IP address, not a domain", field, s)
	}
	return d, nil
}

// CheckRegistrableDomain normalises s and refuses common mail domains (R-DOM-2).
func CheckRegistrableDomain(field, s string) (string, error) {
	d, err := NormalizeDomain(field, s)
	if err != nil {
		return "", err
	}
	if IsCommonMailDomain(d) {
		e := Breaks("R-DOM-2", KindInvalid, "%s is a common mail domain; it can never be registered or verified", d)
		e.Field = field
		return "", e
	}
	return d, nil
}

// CheckPassword applies the password policy: MinPasswordLen to
// MaxPasswordLen characters, not the email itself.
func CheckPassword(field, password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return Invalid(field, "%s is not valid UTF-8", field)
	case n < MinPasswordLen:
		return Invalid(field, "%s must be at least %d characters", field, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return Invalid(field, "%s must be at most %d bytes", field, MaxPasswordLen)
	case email != "" && strings.EqualFold(password, email):
		return Invalid(field, "%s must not be the email address", field)
	}
	return nil
}

func asRule(err error, target **RuleError) bool {
	re, ok := err.(*RuleError)
	if ok {
		*target = re
	}
	return ok
}
