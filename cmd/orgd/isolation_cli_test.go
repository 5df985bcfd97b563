package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/sso/ssotest"
)

// cliMatrix has, for every CLI verb that takes --as, its arguments;
// {slot} names a victim object (see isolation_test.go), {B} the
// attacker's organization, {csv} and {idp} files.
var cliMatrix = map[string]string{
	"org show":                "--org {OrganizationSid}",
	"org rename":              "--org {OrganizationSid} --name pwned",
	"org set-limit":           "--org {OrganizationSid} --accounts 50",
	"org record-baa":          "--org {OrganizationSid}",
	"org enable-bulk-import":  "--org {OrganizationSid}",
	"org disable-bulk-import": "--org {OrganizationSid}",
	"org preflight-merge":     "--prime {B} --candidate {OrganizationSid}",
	"org merge":               "--prime {B} --candidate {OrganizationSid}",
	"owner transfer":          "--org {OrganizationSid} --to {user}",
	"user invite":             "--org {OrganizationSid} --email new@victim.test --role administrator",
	"user invitations":        "--org {OrganizationSid}",
	"user revoke-invitation":  "--org {OrganizationSid} --invitation {invitation}",
	"user list":               "--org {OrganizationSid}",
	"user show":               "--org {OrganizationSid} --user {user}",
	"user role":               "--org {OrganizationSid} --user {user} --role administrator",
	"user remove":             "--org {OrganizationSid} --user {user}",
	"user deactivate":         "--org {OrganizationSid} --user {user}",
	"user reactivate":         "--org {OrganizationSid} --user {user}",
	"user reset-password":     "--org {OrganizationSid} --user {user}",
	"user reset-2fa":          "--org {OrganizationSid} --user {user}",
	"user import":             "--org {OrganizationSid} --file {csv}",
	"account create":          "--org {OrganizationSid} --name pwned",
	"account import":          "--org {B} --account {AccountSid}",
	"account confirm":         "--account {AccountSid} --org {OrganizationSid}",
	"account show":            "--account {AccountSid}",
	"account list":            "--org {OrganizationSid}",
	"account rename":          "--account {AccountSid} --name pwned",
	"account transfer":        "--account {AccountSid} --to {user}",
	"account suspend":         "--account {AccountSid}",
	"account reactivate":      "--account {AccountSid}",
	"account close":           "--account {AccountSid}",
	"account upgrade":         "--account {AccountSid}",
	"account hipaa":           "--account {AccountSid} --enabled=true",
	"account grant":           "--account {AccountSid} --user {user} --role administrator",
	"account revoke":          "--account {AccountSid} --user {user}",
	"account grants":          "--org {OrganizationSid} --account {AccountSid}",
	"account link":            "--account {AccountSid} --org {B}",
	"account unlink":          "--account {AccountSid} --org {OrganizationSid}",
	"account rotate-token":    "--account {AccountSid}",
	"account keys create":     "--account {AccountSid} --name pwned",
	"account keys list":       "--account {AccountSid}",
	"account keys delete":     "--account {AccountSid} --key {Sid}",
	"subaccount create":       "--parent {AccountSid} --name pwned",
	"subaccount list":         "--parent {AccountSid}",
	"subaccount limit":        "--parent {AccountSid} --limit 3",
	"domain add":              "--org {OrganizationSid} --domain added.test",
	"domain verify":           "--org {OrganizationSid} --domain {domain}",
	"domain set":              "--org {OrganizationSid} --domain {domain} --signup auto-enrollment",
	"domain list":             "--org {OrganizationSid}",
	"domain remove":           "--org {OrganizationSid} --domain {domain}",
	"group create":            "--org {OrganizationSid} --name pwned",
	"group list":              "--org {OrganizationSid}",
	"group map":               "--org {OrganizationSid} --group {group} --role administrator",
	"scim-token create":       "--org {OrganizationSid}",
	"scim-token list":         "--org {OrganizationSid}",
	"scim-token revoke":       "--org {OrganizationSid} --token {scimtoken}",
	"oauth-client create":     "--org {OrganizationSid}",
	"oauth-client revoke":     "--org {OrganizationSid} --client {client}",
	"sso set":                 "--org {OrganizationSid} --idp-metadata {idp}",
	"audit list":              "--org {OrganizationSid}",
	"audit verify":            "--org {OrganizationSid}",
	"mail list":               "--limit 5", // the operator's alone
}

// TestIsolation_CLI runs every CLI verb that takes --as as users who must
// not reach organization A's objects: another organization's Owner, a
// deactivated Administrator of A and a user that does not exist are
// refused, exactly as for objects that do not exist; a Standard user of A
// either is refused or sees nothing of the victim's; A is unchanged.
func TestIsolation_CLI(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e, v, _ := newIsolationWorld(t, dsn)
		c := newCLI(t, dsn)
		c.env["ORGD_DNS_SERVER"] = e.dns.addr
		dir := t.TempDir()
		csv := filepath.Join(dir, "users.csv")
		require.NoError(t, os.WriteFile(csv, []byte("email,role\nnew@victim.test,administrator\n"), 0o600))
		idp := filepath.Join(dir, "idp.xml")
		require.NoError(t, os.WriteFile(idp, ssotest.NewIdP(t, "https://idp.invalid/metadata", "idp.invalid", time.Now()).Metadata(), 0o600))

		for _, cmd := range commands() {
			if _, ok := cliMatrix[cmd.name]; !ok && !cmd.noActor {
				t.Errorf("CLI verb %q takes --as but has no entry in the CLI isolation matrix (isolation_cli_test.go)", cmd.name)
			}
		}
		if t.Failed() {
			return
		}
		before := e.state(v)
		var tried, compared int
		for _, cmd := range commands() {
			tmpl, ok := cliMatrix[cmd.name]
			if !ok {
				continue // takes no --as: signup, user accept, migrate, serve
			}
			for _, as := range v.cliAs {
				build := func(exists bool) ([]string, []string) {
					var sent []string
					args := strings.Fields(cmd.name)
					for _, a := range strings.Fields(tmpl) {
						a = paramRE.ReplaceAllStringFunc(a, func(p string) string {
							switch name := p[1 : len(p)-1]; name {
							case "B":
								return v.attackerOrg
							case "csv":
								return csv
							case "idp":
								return idp
							default:
								val := v.value(name, exists)
								sent = append(sent, val)
								return val
							}
						})
						args = append(args, a)
					}
					return append(args, "--as", as.sid), sent
				}
				args, sent := build(true)
				r := c.run(args...)
				tried++
				what := fmt.Sprintf("orgd %s as %s", cmd.name, as.name)
				require.NotEqualf(t, 1, r.code, "%s: internal error: %s", what, r.stderr)
				out := r.stdout + r.stderr
				for _, mk := range v.markers {
					if !contains(sent, mk) && strings.Contains(out, mk) && !(as.member && (mk == "Victim Org Secret" || mk == v.objs[sOrg])) {
						t.Errorf("%s: the output holds the victim's %q: %.300s", what, mk, out)
					}
				}
				if as.member && !strings.HasPrefix(as.name, "a deactivated") {
					continue // a Standard user of A: refused or shown nothing of the victim's
				}
				if r.code != 3 && r.code != 4 {
					t.Errorf("%s: exit %d, want 3 or 4 (refused, not found): %s%s", what, r.code, r.stdout, r.stderr)
				}
				if as.member {
					// A deactivated user is told so, which tells them
					// nothing they did not know; anything else is not found.
					operatorOnly := regexp.MustCompile(`"only (an|the) operator`).MatchString(r.stderr) // refused whoever asks
					if !strings.Contains(r.stderr, `"rule":"R-SCIM-2"`) && r.code != 4 && !operatorOnly {
						t.Errorf("%s: want R-SCIM-2 or not found: %s", what, r.stderr)
					}
					continue
				}
				if len(sent) == 0 {
					continue // nothing to vary
				}
				args2, sent2 := build(false)
				r2 := c.run(args2...)
				compared++
				both := append(sent, sent2...)
				a := fmt.Sprintf("%d %s", r.code, normalize(r.stderr, both...))
				b := fmt.Sprintf("%d %s", r2.code, normalize(r2.stderr, both...))
				if a != b {
					t.Errorf("%s: the victim's object and a missing one are answered differently:\nexists:  %s\nmissing: %s", what, a, b)
				}
			}
		}
		require.Equal(t, before, e.state(v), "a CLI verb as another user changed the victim's objects")
		t.Logf("CLI isolation matrix: %d verbs × %d users = %d runs, %d compared with a missing object", len(cliMatrix), len(v.cliAs), tried, compared)
	})
}
