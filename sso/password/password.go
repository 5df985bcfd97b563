// Package password hashes passwords with argon2id (RFC 9106) in the PHC
// string format, and verifies them in constant time.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id hashes passwords; it implements orgmodel.PasswordHasher. The zero
// value uses Default's parameters.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows RFC 9106's second recommended option (64 MiB, 3 passes)
// scaled to one pass at 64 MiB with 2 lanes, as OWASP suggests for
// interactive logins on small machines.
var Default = Argon2id{Memory: 64 * 1024, Time: 1, Threads: 2}

// Fast is for tests only: it hashes in well under a millisecond.
var Fast = Argon2id{Memory: 64, Time: 1, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on the parameters accepted from a stored hash, so that a
	// tampered row cannot make a login allocate gigabytes.
	maxMemory = 1 << 20 // 1 GiB
	maxTime   = 16
)

func (a Argon2id) params() Argon2id {
	if a.Memory == 0 {
		return Default
	}
	return a
}

// Hash returns the PHC string of password under a fresh random salt.
func (a Argon2id) Hash(password string) (string, error) {
	p := a.params()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrFormat is returned for a stored hash that is not an argon2id PHC string.
var ErrFormat = errors.New("password: not an argon2id hash")

// Verify reports whether password matches the PHC string hash.
func (a Argon2id) Verify(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, ErrFormat
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrFormat
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, ErrFormat
	}
	if m == 0 || m > maxMemory || t == 0 || t > maxTime || p == 0 {
		return false, ErrFormat
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, ErrFormat
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, ErrFormat
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
