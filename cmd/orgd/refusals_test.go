package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestCLI_BadInputIsRefusedAndChangesNothing is the "Bad input" list of
// issue 2 at the CLI: each row must exit with its status, name its rule
// (or none), say what was wrong, and leave the database as it was.
func TestCLI_BadInputIsRefusedAndChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		A := f.orgA
		invite := func(email, role string) string {
			inv := f.ok("user", "invite", "--org", A, "--email", email, "--role", role)
			return f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword).str("user_sid")
		}
		kate := invite("kate@acme.test", "standard")
		alice := invite("alice@acme.test", "administrator")
		f.verify(f.orgB, "beta.test")                                        // restricted: sign-ups refused
		f.ok("domain", "add", "--org", f.orgB, "--domain", "beta-labs.test") // never verified
		f.ok("domain", "set", "--org", f.orgC, "--domain", "acme.test", "--signup", "auto-enrollment")
		f.ok("subaccount", "create", "--parent", f.acctA, "--name", "Only one while trial")
		f.ok("account", "grant", "--account", f.acctA, "--user", kate, "--role", "developer")
		csv := filepath.Join(t.TempDir(), "users.csv")
		require.NoError(t, os.WriteFile(csv, []byte("email,role\nmia@acme.test,standard\n"), 0o600))
		unknown := func(prefix string) string { return orgmodel.NewSID(prefix) }
		hex32 := strings.TrimPrefix(unknown("OR"), "OR")

		for _, r := range []struct {
			name string
			code int
			rule string
			args []string
			says string // the error names this
		}{
			// Malformed and unknown SIDs.
			{"short org SID", 2, "", []string{"org", "show", "--org", "OR123"}, "--org"},
			{"upper-case hex in a SID", 2, "", []string{"org", "show", "--org", "OR" + strings.ToUpper(hex32)}, "--org"},
			{"SID of the wrong kind", 2, "", []string{"user", "show", "--org", A, "--user", f.acctA}, "--user"},
			{"empty SID", 2, "", []string{"account", "show", "--account", ""}, "--account is required"},
			{"--as an email", 2, "", []string{"org", "show", "--org", A, "--as", "owner@acme.test"}, "--as"},
			{"unknown organization", 4, "", []string{"org", "show", "--org", unknown("OR")}, "not found"},
			{"unknown account", 4, "", []string{"account", "show", "--account", unknown("AC")}, "not found"},
			{"unknown invitation", 4, "", []string{"user", "revoke-invitation", "--org", A, "--invitation", unknown("NF")}, "not found"},
			{"invitations of an unknown organization", 4, "", []string{"user", "invitations", "--org", unknown("OR")}, "not found"},
			{"audit log of an unknown organization", 4, "", []string{"audit", "list", "--org", unknown("OR")}, "not found"},
			{"unknown API key", 4, "", []string{"account", "keys", "delete", "--account", f.acctA, "--key", unknown("SK")}, "not found"},

			// Names.
			{"empty name", 2, "", []string{"account", "create", "--org", A, "--name", ""}, "name"},
			{"blank name", 2, "", []string{"org", "rename", "--org", A, "--name", "   "}, "empty"},
			{"oversized name", 2, "", []string{"account", "create", "--org", A, "--name", strings.Repeat("n", 256)}, "255"},
			{"control character in a name", 2, "", []string{"subaccount", "create", "--parent", f.acctA, "--name", "a\nb"}, "control"},

			// Email addresses.
			{"not an address", 2, "", []string{"user", "invite", "--org", A, "--email", "alice"}, "not an email address"},
			{"display-name form", 2, "", []string{"user", "invite", "--org", A, "--email", "Alice <x@acme.test>"}, "not an email address"},
			{"two addresses", 2, "", []string{"user", "invite", "--org", A, "--email", "x@acme.test,y@acme.test"}, "not an email address"},
			{"address on a one-label domain", 2, "", []string{"signup", "--email", "x@localhost", "--password", testPassword}, "domain"},
			{"password too short", 2, "", []string{"signup", "--email", "x@new-corp.test", "--password", "short"}, "at least 12"},

			// Domains (R-DOM-2): bare names only; common mail domains never.
			{"domain with a scheme", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "https://acme-new.test"}, "scheme"},
			{"domain with www.", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "www.acme-new.test"}, "www."},
			{"domain with a trailing dot", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "acme-new.test."}, "dot"},
			{"domain with a space", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "acme new.test"}, "spaces"},
			{"IDN domain", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "bücher.test"}, "xn--"},
			{"domain with a path", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "acme-new.test/x"}, "path"},
			{"domain with a port", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "acme-new.test:443"}, "port"},
			{"one-label domain", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "localhost"}, "two labels"},
			{"common mail domain", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "gmail.com"}, "common mail domain"},
			{"common mail domain in upper case", 2, "R-DOM-2", []string{"domain", "add", "--org", A, "--domain", "Outlook.COM"}, "common mail domain"},
			{"domain already registered here", 3, "", []string{"domain", "add", "--org", A, "--domain", "ACME.test"}, "already registered"},
			{"settings of an unverified domain", 3, "R-DOM-1", []string{"domain", "set", "--org", f.orgB, "--domain", "beta-labs.test", "--signup", "blocked"}, "not verified"},
			{"a second organization's auto-enrollment", 3, "R-DOM-4", []string{"domain", "set", "--org", A, "--domain", "acme.test", "--signup", "auto-enrollment"}, "another organization"},
			{"SSO enforcement without an IdP", 3, "R-SSO-1", []string{"domain", "set", "--org", A, "--domain", "acme.test", "--sso-enforced"}, "identity provider"},
			{"unknown sign-up setting", 2, "", []string{"domain", "set", "--org", A, "--domain", "acme.test", "--signup", "open"}, "restricted, auto-enrollment or blocked"},

			// Who may join.
			{"invite on an unverified domain", 3, "R-USER-7", []string{"user", "invite", "--org", A, "--email", "x@unverified-acme.test"}, "not a verified domain"},
			{"invite from a common mail domain", 3, "R-USER-7", []string{"user", "invite", "--org", A, "--email", "x@gmail.com"}, "common mail domain"},
			{"invite a user of another organization", 3, "R-USER-2", []string{"user", "invite", "--org", A, "--email", "ivan@acme.test"}, "another organization"},
			{"invite as Owner", 2, "R-ROLE-4", []string{"user", "invite", "--org", A, "--email", "x@acme.test", "--role", "owner"}, "ownership transfer"},
			{"invite with an unknown role", 2, "", []string{"user", "invite", "--org", A, "--email", "x@acme.test", "--role", "superuser"}, "not a role"},
			{"sign up with a taken email", 3, "R-USER-2", []string{"signup", "--email", "OWNER@acme.test", "--password", testPassword}, "already"},
			{"sign up on a restricted domain", 3, "R-DOM-3", []string{"signup", "--email", "leo@beta.test", "--password", testPassword}, "restricted"},

			// Users of other organizations.
			{"role of another organization's user", 4, "", []string{"user", "role", "--org", A, "--user", f.ownerB, "--role", "standard"}, "not found"},
			{"ownership to another organization's user", 4, "R-ROLE-4", []string{"owner", "transfer", "--org", A, "--to", f.ownerB}, "not found"},
			{"account to another organization's user", 3, "R-ACCT-5", []string{"account", "transfer", "--account", f.acctA, "--to", "bob@beta.test"}, "managed user"},
			{"remove the Owner", 3, "R-ROLE-4", []string{"user", "remove", "--org", A, "--user", f.ownerA}, "transfer the Owner role first"},
			{"deactivate the Owner", 3, "R-ROLE-4", []string{"user", "deactivate", "--org", A, "--user", f.ownerA}, "Owner"},

			// Roles that may not act (--as).
			{"a Standard user invites", 3, "R-ROLE-3", []string{"user", "invite", "--org", A, "--email", "x@acme.test", "--as", kate}, "Administrator"},
			{"a Standard user lists users", 3, "R-ROLE-3", []string{"user", "list", "--org", A, "--as", kate}, "Administrator"},
			{"a Standard user closes an account it cannot see", 4, "", []string{"account", "close", "--account", f.acctIvan, "--as", kate}, "not found"},
			{"a Standard user closes an account it may only use", 3, "R-ROLE-3", []string{"account", "close", "--account", f.acctA, "--as", kate}, "close"},
			{"an Administrator records the BAA", 3, "R-ROLE-3", []string{"org", "record-baa", "--org", A, "--as", alice}, "only the Owner"},
			{"an Administrator transfers ownership", 3, "R-ROLE-3", []string{"owner", "transfer", "--org", A, "--to", alice, "--as", alice}, "only the Owner"},
			{"the Owner raises the account limit", 3, "R-HIER-3", []string{"org", "set-limit", "--org", A, "--accounts", "50", "--as", f.ownerA}, "operator"},
			{"the Owner enables bulk import", 3, "R-USER-6", []string{"org", "enable-bulk-import", "--org", A, "--as", f.ownerA}, "operator"},
			{"the Owner upgrades an account", 3, "R-HIER-4", []string{"account", "upgrade", "--account", f.acctA, "--as", f.ownerA}, "operator"},
			{"the Owner reads the outbox", 3, "", []string{"mail", "list", "--as", f.ownerA}, "operator"},
			{"a user of another organization", 4, "", []string{"org", "show", "--org", A, "--as", f.ownerB}, "not found"},
			{"another organization's account", 4, "", []string{"account", "suspend", "--account", f.acctA, "--as", f.ownerB}, "not found"},

			// Other rules.
			{"HIPAA before a BAA", 3, "R-HIPAA-1", []string{"account", "hipaa", "--account", f.acctA, "--enabled=true"}, "BAA"},
			{"bulk import not enabled", 3, "R-USER-6", []string{"user", "import", "--org", A, "--file", csv}, "not enabled"},
			{"a second subaccount of a trial account", 3, "R-HIER-4", []string{"subaccount", "create", "--parent", f.acctA, "--name", "Two"}, "limit is 1"},
			{"the operator confirms an import", 3, "R-ACCT-3", []string{"account", "confirm", "--account", f.acctIvan}, "--as"},
			{"import an Owner's account", 3, "R-ACCT-6", []string{"account", "import", "--org", A, "--account", f.acctD}, "merge"},
			{"merge into itself", 2, "R-MERGE-1", []string{"org", "merge", "--prime", A, "--candidate", A}, "itself"},
			{"merge into a prime without a verified domain", 3, "R-MERGE-2", []string{"org", "merge", "--prime", f.orgD, "--candidate", f.orgB}, "no verified domain"},
			// An organization whose Owner is elsewhere is answered like one that
			// does not exist (not found, exit 4), revealing nothing of it.
			{"merge a candidate whose Owner is elsewhere", 4, "R-MERGE-3", []string{"org", "merge", "--prime", A, "--candidate", f.orgB}, "not found among those whose Owner"},

			// The command line itself.
			{"missing required flag", 2, "", []string{"domain", "add", "--org", A}, "missing required flag --domain"},
			{"unknown flag", 2, "", []string{"org", "show", "--org", A, "--verbose"}, "--verbose"},
			{"bad --sso-enforced", 2, "", []string{"domain", "set", "--org", A, "--domain", "acme.test", "--sso-enforced=maybe"}, "--sso-enforced"},
			{"bad --enabled", 2, "", []string{"account", "hipaa", "--account", f.acctA, "--enabled=yes please"}, "--enabled"},
			{"--enabled missing", 2, "", []string{"account", "hipaa", "--account", f.acctA}, "missing required flag --enabled"},
			{"--accounts not a number", 2, "", []string{"org", "set-limit", "--org", A, "--accounts", "ten"}, "--accounts"},
			{"stray argument", 2, "", []string{"org", "show", "--org", A, "extra"}, `"extra"`},
			{"--limit out of range", 2, "", []string{"audit", "list", "--limit", "5000"}, "--limit"},
			{"nothing to set", 2, "", []string{"domain", "set", "--org", A, "--domain", "acme.test"}, "nothing to change"},
			{"--base-url not http", 2, "", []string{"org", "show", "--org", A, "--base-url", "ftp://orgd.test"}, "--base-url"},
			{"--file unreadable", 2, "", []string{"user", "import", "--org", A, "--file", filepath.Join(t.TempDir(), "none.csv")}, "--file"},
			{"--account of an invitation malformed", 2, "", []string{"user", "invite", "--org", A, "--email", "x@acme.test", "--account", "AC1:billing"}, "--account"},
			{"confirm with neither --account nor --token", 2, "", []string{"account", "confirm"}, "either --account or --token"},
			{"no verb for a noun", 2, "", []string{"domain"}, "needs a verb"},
			{"unknown verb", 2, "", []string{"org", "delete", "--org", A}, `"orgd org delete"`},
		} {
			t.Run(r.name, func(t *testing.T) {
				o := f.as(t).refused(r.code, r.rule, r.args...)
				require.Contains(t, o.str("error"), r.says)
			})
		}
	})
}

// as returns the CLI reporting to t, for subtests.
func (c *orgdCLI) as(t *testing.T) *orgdCLI {
	d := *c
	d.t = t
	return &d
}
