package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func TestKeyFile_MadeOnceWithMode0600AndRefusedWhenOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgd.db.key")
	_, err := LoadKeyFile(path, false)
	require.ErrorContains(t, err, "no such file")
	k1, err := LoadKeyFile(path, true)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k2, err := LoadKeyFile(path, true)
	require.NoError(t, err)
	require.Equal(t, k1.Primary(), k2.Primary(), "an existing file is kept")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = LoadKeyFile(path, true)
	require.ErrorContains(t, err, "chmod 600")

	for _, bad := range []string{"", "# only a comment\n", "k1 notbase64!\n", "k1 " + strings.Repeat("A", 10) + "\n", "k:1 " + strings.Repeat("A", 43) + "=\n"} {
		_, err := ParseKeyring([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}

// TestSealing_RoundTripRotationAndTamper: secrets are sealed on write and
// opened on read; UseKeys seals what an earlier run left in clear and
// re-seals under a new first key; a changed or unknown-key value fails to
// open, with an error that names the column, never the value.
func TestSealing_RoundTripRotationAndTamper(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		db := open(t, dsn)
		// An earlier run without a key wrote a TOTP secret and a mail in clear.
		org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
		user := orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser))
		now := time.UnixMilli(1_700_000_000_000).UTC()
		require.NoError(t, db.InTx(ctx, func(tx orgmodel.Tx) error {
			if err := tx.CreateOrg(ctx, &orgmodel.Org{SID: org, FriendlyName: "o", OwnerSID: user, AccountLimit: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, &orgmodel.User{SID: user, Email: "u@x.test", OrgSID: org, Role: orgmodel.RoleOwner, Status: orgmodel.UserActive,
				TOTPSecret: "JBSWY3DPEHPK3PXP", Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			return tx.EnqueueMail(ctx, &orgmodel.Mail{Kind: "invitation", To: "u@x.test", Subject: "s", Body: "link ?token=inv_clear", CreatedAt: now, NextAttemptAt: now})
		}))
		raw := func(q string) string {
			var v string
			require.NoError(t, db.w.QueryRowContext(ctx, q).Scan(&v))
			return v
		}
		require.Equal(t, "JBSWY3DPEHPK3PXP", raw(`SELECT totp_secret FROM users`))

		old := NewKeyLine(now)
		k1, err := ParseKeyring([]byte(old))
		require.NoError(t, err)
		n, err := db.UseKeys(ctx, k1)
		require.NoError(t, err)
		require.Equal(t, 2, n, "the clear TOTP secret and mail body")
		sealed := raw(`SELECT totp_secret FROM users`)
		require.True(t, strings.HasPrefix(sealed, "sealed:1:"+k1.Primary()+":"), sealed)
		require.NotContains(t, raw(`SELECT body FROM outbox`), "inv_clear")
		read := func() (string, string) {
			var totp, body string
			require.NoError(t, db.Read(ctx, func(tx orgmodel.Tx) error {
				u, err := tx.GetUser(ctx, user)
				if err != nil {
					return err
				}
				ms, err := tx.ListMail(ctx, orgmodel.MailFilter{})
				if err != nil {
					return err
				}
				totp, body = u.TOTPSecret, ms[0].Body
				return nil
			}))
			return totp, body
		}
		totp, body := read()
		require.Equal(t, "JBSWY3DPEHPK3PXP", totp)
		require.Equal(t, "link ?token=inv_clear", body)
		n, err = db.UseKeys(ctx, k1)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to seal")

		// Rotation: a new key first, the old one still listed.
		k2, err := ParseKeyring([]byte(NewKeyLine(now) + "\n" + old + "\n"))
		require.NoError(t, err)
		n, err = db.UseKeys(ctx, k2)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.True(t, strings.HasPrefix(raw(`SELECT totp_secret FROM users`), "sealed:1:"+k2.Primary()+":"))
		totp, _ = read()
		require.Equal(t, "JBSWY3DPEHPK3PXP", totp)

		// A store without the key, or with another one, cannot open them.
		other, err := ParseKeyring([]byte(NewKeyLine(now)))
		require.NoError(t, err)
		db.keys = other
		err = db.Read(ctx, func(tx orgmodel.Tx) error { _, err := tx.GetUser(ctx, user); return err })
		require.ErrorContains(t, err, "users.totp_secret is sealed with the secret key")
		require.NotContains(t, err.Error(), "JBSWY3DPEHPK3PXP")
		// A changed ciphertext does not open.
		db.keys = k2
		v := raw(`SELECT totp_secret FROM users`)
		flipped := v[:len(v)-2] + map[bool]string{true: "A", false: "B"}[v[len(v)-2] != 'A'] + v[len(v)-1:]
		_, err = db.w.ExecContext(ctx, db.d.rebind(`UPDATE users SET totp_secret = ?`), flipped)
		require.NoError(t, err)
		err = db.Read(ctx, func(tx orgmodel.Tx) error { _, err := tx.GetUser(ctx, user); return err })
		require.ErrorContains(t, err, "does not open")
	})
}

// A backup's key file joins the restored database's: what either key
// sealed opens, and the target's own key still seals.
func TestKeyFile_CopyAndMerge(t *testing.T) {
	dir := t.TempDir()
	backupKey, targetKey := filepath.Join(dir, "backup.db.key"), filepath.Join(dir, "live.db.key")
	kb, err := LoadKeyFile(backupKey, true)
	require.NoError(t, err)
	sealed := kb.seal("outbox.body", "a link token")

	// Into a missing file: a copy, mode 0600; a second copy is refused.
	copied := filepath.Join(dir, "copy.key")
	require.NoError(t, CopyKeyFile(backupKey, copied))
	st, err := os.Stat(copied)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.ErrorContains(t, CopyKeyFile(backupKey, copied), "exists")
	require.NoError(t, MergeKeyFile(backupKey, filepath.Join(dir, "fresh.key")))
	kf, err := LoadKeyFile(filepath.Join(dir, "fresh.key"), false)
	require.NoError(t, err)
	got, err := kf.open("outbox.body", sealed)
	require.NoError(t, err)
	require.Equal(t, "a link token", got)

	// Into an existing file: appended, the target's primary unchanged; twice changes nothing.
	kt, err := LoadKeyFile(targetKey, true)
	require.NoError(t, err)
	_, err = kt.open("outbox.body", sealed)
	require.ErrorContains(t, err, "does not hold")
	require.NoError(t, MergeKeyFile(backupKey, targetKey))
	before, err := os.ReadFile(targetKey)
	require.NoError(t, err)
	require.NoError(t, MergeKeyFile(backupKey, targetKey))
	after, err := os.ReadFile(targetKey)
	require.NoError(t, err)
	require.Equal(t, string(before), string(after), "merging again adds nothing")
	km, err := LoadKeyFile(targetKey, false)
	require.NoError(t, err)
	require.Equal(t, kt.Primary(), km.Primary(), "the target's key still seals")
	got, err = km.open("outbox.body", sealed)
	require.NoError(t, err)
	require.Equal(t, "a link token", got)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.key"), []byte("not a key\n"), 0o600))
	require.ErrorContains(t, MergeKeyFile(filepath.Join(dir, "bad.key"), targetKey), "line 1")
}
