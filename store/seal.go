package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Secrets that orgd must be able to read back — TOTP secrets, the seeds
// of the keys that sign API tokens, outbox bodies (which hold link
// tokens) — are sealed with AES-256-GCM under a server key before they
// reach the database, so that a copy of the database (a backup, a stolen
// file) does not give them away. Everything else secret is stored as a
// hash and never needs this.

// sealPrefix starts a sealed value: sealed:1:<key id>:<base64 nonce‖ciphertext>.
const sealPrefix = "sealed:1:"

// Keyring holds the server's secret keys: the first seals, every one
// opens what it sealed, so that a key can be rotated by putting a new one
// first in the file (values are re-sealed with it at the next start).
type Keyring struct {
	primary string
	keys    map[string]cipher.AEAD
}

// KeyFileHelp says what a key file holds.
const KeyFileHelp = "one key a line: an id and 32 random bytes in base64, separated by a space; the first line seals, every line opens; '#' starts a comment"

// ParseKeyring reads a key file's content (KeyFileHelp).
func ParseKeyring(data []byte) (*Keyring, error) {
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		id, b64, ok := strings.Cut(s, " ")
		if !ok || id == "" || strings.ContainsAny(id, ":\t") || len(id) > 64 {
			return nil, fmt.Errorf("line %d: want a key id (no ':'), a space and the key in base64", line)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("line %d: the key of %q is not 32 bytes in base64", line, id)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("line %d: key id %q appears twice", line, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys[id] = gcm
		if k.primary == "" {
			k.primary = id
		}
	}
	if k.primary == "" {
		return nil, errors.New("it holds no key (" + KeyFileHelp + ")")
	}
	return k, nil
}

// NewKeyLine returns a key file line with a new random key.
func NewKeyLine(now time.Time) string {
	var key [32]byte
	var id [3]byte
	_, _ = rand.Read(key[:])
	_, _ = rand.Read(id[:])
	return fmt.Sprintf("k%s-%s %s", now.UTC().Format("20060102"), hex.EncodeToString(id[:]), base64.StdEncoding.EncodeToString(key[:]))
}

// LoadKeyFile reads the key file at path. When create is set and there is
// no file, it writes one with a new key (mode 0600) first. A file that
// others than its owner may read is refused.
func LoadKeyFile(path string, create bool) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		content := "# orgd secret key: seals TOTP secrets, token signing keys and mailed links in the database.\n" +
			"# Keep it apart from database backups; every replica needs the same file. " + KeyFileHelp + ".\n" +
			NewKeyLine(time.Now()) + "\n"
		ferr := createWhole(path, []byte(content))
		if ferr != nil && !errors.Is(ferr, fs.ErrExist) { // another process may have just made it
			return nil, fmt.Errorf("secret key file %s: cannot create it: %w", path, unwrapPath(ferr))
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s: others than its owner may read it (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	k, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// createWhole makes the file path holding data (mode 0600) in one step:
// written to a temporary file beside it, then linked into place, so that
// a process starting at the same moment reads all of it or none (its own
// attempt then fails with fs.ErrExist).
func createWhole(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp, path)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Primary is the id of the key that seals.
func (k *Keyring) Primary() string { return k.primary }

// seal returns v sealed for column col (its additional data, so that a
// value cannot be moved to another column); "" stays "", and without a
// keyring v is returned as it is.
func (k *Keyring) seal(col, v string) string {
	if k == nil || v == "" {
		return v
	}
	gcm := k.keys[k.primary]
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(v)+gcm.Overhead())
	_, _ = rand.Read(nonce)
	out := gcm.Seal(nonce, nonce, []byte(v), []byte(col))
	return sealPrefix + k.primary + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// open returns the clear value of v read from column col: a value that is
// not sealed (written before sealing, or by a process without a key) is
// returned as it is.
func (k *Keyring) open(col, v string) (string, error) {
	rest, ok := strings.CutPrefix(v, sealPrefix)
	if !ok {
		return v, nil
	}
	id, b64, _ := strings.Cut(rest, ":")
	if k == nil {
		return "", fmt.Errorf("store: %s is sealed with the secret key %q, and no secret key was given (--secret-key-file)", col, id)
	}
	gcm, ok := k.keys[id]
	if !ok {
		return "", fmt.Errorf("store: %s is sealed with the secret key %q, which the secret key file does not hold", col, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < gcm.NonceSize() {
		return "", fmt.Errorf("store: %s holds a malformed sealed value", col)
	}
	clear, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(col))
	if err != nil {
		return "", fmt.Errorf("store: %s does not open with the secret key %q: it was changed, or sealed with another key of that id", col, id)
	}
	return string(clear), nil
}

// current reports whether v is "" or sealed with the primary key.
func (k *Keyring) current(v string) bool {
	return v == "" || strings.HasPrefix(v, sealPrefix+k.primary+":")
}

// sealedColumns are the columns that hold sealed values, with their
// table's key column.
var sealedColumns = []struct{ table, key, col string }{
	{"users", "sid", "totp_secret"},
	{"signing_keys", "kid", "seed"},
	{"outbox", "id", "body"},
}

// UseKeys makes the store seal secrets with k from now on, and seals with
// k's primary key every value that is in clear or sealed with another of
// its keys (a database from before sealing, or after a key rotation). It
// answers how many values it re-sealed.
func (s *DB) UseKeys(ctx context.Context, k *Keyring) (int, error) {
	if k == nil {
		return 0, errors.New("store: UseKeys without keys")
	}
	s.keys = k
	n := 0
	for _, c := range sealedColumns {
		name := c.table + "." + c.col
		for {
			done := 0
			sqlTx, err := s.w.BeginTx(ctx, nil)
			if err != nil {
				return n, s.d.translate(err)
			}
			rows, err := sqlTx.QueryContext(ctx, s.d.rebind(`SELECT `+c.key+`, `+c.col+` FROM `+c.table+
				` WHERE `+c.col+` <> '' AND `+c.col+` NOT LIKE ? ORDER BY `+c.key+` LIMIT 500`), sealPrefix+k.primary+":%")
			if err != nil {
				_ = sqlTx.Rollback()
				return n, s.d.translate(err)
			}
			type row struct {
				key any
				v   string
			}
			var todo []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.key, &r.v); err != nil {
					rows.Close()
					_ = sqlTx.Rollback()
					return n, err
				}
				todo = append(todo, r)
			}
			rows.Close()
			for _, r := range todo {
				clear, err := k.open(name, r.v)
				if err == nil {
					_, err = sqlTx.ExecContext(ctx, s.d.rebind(`UPDATE `+c.table+` SET `+c.col+` = ? WHERE `+c.key+` = ?`), k.seal(name, clear), r.key)
				}
				if err != nil {
					_ = sqlTx.Rollback()
					return n, err
				}
				done++
			}
			if err := sqlTx.Commit(); err != nil {
				return n, s.d.translate(err)
			}
			n += done
			if done < 500 {
				break
			}
		}
	}
	return n, nil
}

// CopyKeyFile copies the key file src to dst, a new file of mode 0600.
func CopyKeyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", src, unwrapPath(err))
	}
	if _, err := ParseKeyring(data); err != nil {
		return fmt.Errorf("secret key file %s: %w", src, err)
	}
	return writeNewFile(dst, data)
}

// MergeKeyFile makes the key file dst open what src's keys sealed: dst is
// created as a copy of src when it does not exist; otherwise src's keys
// that dst lacks are appended to it (dst's first key still seals).
func MergeKeyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", src, unwrapPath(err))
	}
	from, err := ParseKeyring(data)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", src, err)
	}
	have, err := os.ReadFile(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return writeNewFile(dst, data)
	}
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", dst, unwrapPath(err))
	}
	to, err := ParseKeyring(have)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", dst, err)
	}
	var add []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		id, _, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if _, dup := to.keys[id]; !dup && from.keys[id] != nil {
			add = append(add, line)
		}
	}
	if len(add) == 0 {
		return nil
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", dst, unwrapPath(err))
	}
	prefix := ""
	if len(have) > 0 && have[len(have)-1] != '\n' {
		prefix = "\n"
	}
	_, err = f.WriteString(prefix + strings.Join(add, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", dst, unwrapPath(err))
	}
	return nil
}

// writeNewFile writes data to a new file at path (mode 0600), refusing to
// replace one.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	return nil
}
