package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/sso/ssotest"
)

// TestCLI_EveryVerb walks every operator verb's happy path, in an order
// that makes each one meaningful, and checks the JSON each prints. It ends
// by checking that no verb was left out.
func TestCLI_EveryVerb(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		A := f.orgA

		// Organizations.
		o := f.ok("org", "show", "--org", A)
		require.Equal(t, A, o.str("sid"))
		require.Equal(t, "Acme", o.str("friendly_name"))
		require.Equal(t, f.ownerA, o.str("owner_sid"))
		require.Equal(t, 10, o.num("account_limit"))
		require.False(t, o.flag("baa"))
		require.Equal(t, A, f.ok("org", "show", "--org", A, "--as", f.ownerA).str("sid"))
		require.Equal(t, "Acme Inc", f.ok("org", "rename", "--org", A, "--name", "Acme Inc").str("friendly_name"))

		// Domains: auto-enrollment lets a person join by signing up.
		ds := f.ok("domain", "list", "--org", A).list("domains")
		require.Len(t, ds, 1)
		require.Equal(t, "verified", ds[0].str("status"))
		d := f.ok("domain", "set", "--org", A, "--domain", "acme.test", "--signup", "auto-enrollment", "--sso-enforced=false")
		require.Equal(t, "auto-enrollment", d.str("signup"))
		require.False(t, d.flag("sso_enforced"))
		k := f.ok("signup", "--email", "kate@acme.test", "--password", testPassword)
		require.Equal(t, A, k.str("organization_sid"), "auto-enrollment joins the domain's organization")
		require.Equal(t, "standard", k.str("role"))
		require.Empty(t, k.str("account_sid"), "joining creates no account")
		kate := k.str("user_sid")
		require.Equal(t, "restricted", f.ok("domain", "set", "--org", A, "--domain", "acme.test", "--signup", "restricted").str("signup"))
		added := f.ok("domain", "add", "--org", A, "--domain", "Acme-Labs.TEST")
		require.Equal(t, "acme-labs.test", added.str("domain"))
		require.Equal(t, "removed", f.ok("domain", "remove", "--org", A, "--domain", "acme-labs.test").str("status"))

		// Groups, and what membership of one gives (SCIM manages members).
		grp := f.ok("group", "create", "--org", A, "--name", "Support Team")
		require.Regexp(t, `^GR[0-9a-f]{32}$`, grp.str("sid"))
		f.refused(3, "", "group", "create", "--org", A, "--name", "SUPPORT team") // a conflict
		mapped := f.ok("group", "map", "--org", A, "--group", grp.str("sid"), "--role", "administrator")
		require.Equal(t, "administrator", mapped.str("role"))
		require.Equal(t, "Support Team", find(f.ok("group", "list", "--org", A).list("groups"), "sid", grp.str("sid")).str("display_name"))
		f.refused(2, "R-ROLE-4", "group", "map", "--org", A, "--group", grp.str("sid"), "--role", "owner")

		// Credentials for the SCIM client and the Organizations API.
		tok := f.ok("scim-token", "create", "--org", A)
		require.Regexp(t, `^scim_[0-9a-f]{64}$`, tok.str("token"))
		toks := f.ok("scim-token", "list", "--org", A).list("tokens")
		require.Len(t, toks, 1)
		require.NotContains(t, toks[0], "token", "listings never show a token")
		require.NotEmpty(t, f.ok("scim-token", "revoke", "--org", A, "--token", tok.str("token")).str("revoked_at"))
		cl := f.ok("oauth-client", "create", "--org", A, "--name", "ci")
		require.Regexp(t, `^OQ[0-9a-f]{32}$`, cl.str("client_id"))
		require.NotEmpty(t, cl.str("client_secret"))
		require.Equal(t, "revoked", f.ok("oauth-client", "revoke", "--org", A, "--client", cl.str("client_id")).str("status"))

		// Invitations and users.
		inv := f.ok("user", "invite", "--org", A, "--email", "alice@acme.test", "--role", "administrator", "--account", f.acctA+":billing")
		require.Regexp(t, `^NF[0-9a-f]{32}$`, inv.str("sid"))
		require.Equal(t, "pending", inv.str("status"))
		require.Equal(t, "administrator", inv.str("role"))
		require.NotEmpty(t, inv.str("token"))
		require.Equal(t, "pending", find(f.ok("user", "invitations", "--org", A).list("invitations"), "sid", inv.str("sid")).str("status"))
		acc := f.ok("user", "accept", "--token", inv.str("token"), "--password", testPassword)
		require.Equal(t, A, acc.str("organization_sid"))
		require.Equal(t, "administrator", acc.str("role"))
		alice := acc.str("user_sid")
		gs := f.ok("account", "grants", "--org", A, "--user", alice).list("grants")
		require.Len(t, gs, 1, "the invitation's account access")
		require.Equal(t, "billing", gs[0].str("role"))
		inv2 := f.ok("user", "invite", "--org", A, "--email", "carol@acme.test")
		require.Equal(t, "revoked", f.ok("user", "revoke-invitation", "--org", A, "--invitation", inv2.str("sid")).str("status"))
		users := f.ok("user", "list", "--org", A).list("users")
		require.Len(t, users, 3)
		for _, u := range users {
			for _, key := range []string{"sid", "email", "role", "status"} {
				require.NotEmpty(t, u.str(key), "user %v lacks %s", u, key)
			}
		}
		require.Equal(t, "owner", find(users, "sid", f.ownerA).str("role"))
		require.Equal(t, "kate@acme.test", f.ok("user", "show", "--org", A, "--user", kate).str("email"))
		require.Equal(t, "administrator", f.ok("user", "role", "--org", A, "--user", kate, "--role", "administrator").str("role"))
		require.Equal(t, "standard", f.ok("user", "role", "--org", A, "--user", kate, "--role", "standard", "--as", alice).str("role"))
		require.Equal(t, "inactive", f.ok("user", "deactivate", "--org", A, "--user", kate).str("status"))
		require.Equal(t, "active", f.ok("user", "reactivate", "--org", A, "--user", kate).str("status"))
		rp := f.ok("user", "reset-password", "--org", A, "--user", kate)
		require.Equal(t, kate, rp.str("user_sid"))
		require.Contains(t, rp, "sessions_ended")
		require.NotEmpty(t, rp.str("expires_at"))
		require.Equal(t, "Reset your orgd password", f.ok("mail", "list", "--to", "kate@acme.test").list("messages")[0].str("subject"))
		require.True(t, f.ok("user", "reset-2fa", "--org", A, "--user", kate).flag("mfa_enrol_required"))

		// Bulk import, once the operator has enabled it.
		require.True(t, f.ok("org", "enable-bulk-import", "--org", A).flag("bulk_import_enabled"))
		csv := filepath.Join(t.TempDir(), "users.csv")
		require.NoError(t, os.WriteFile(csv, []byte("email,role,account\n"+
			"mia@acme.test,standard,\n"+
			"noah@gmail.com,standard,\n"+
			"not-an-email,standard,\n"+
			"olga@acme.test,owner,\n"+
			"paul@acme.test,administrator,"+f.acctA+"\n"), 0o600))
		rows := f.ok("user", "import", "--org", A, "--file", csv).list("rows")
		require.Len(t, rows, 5)
		for i, want := range []struct {
			line          int
			email, result string
			rule          string
		}{
			{2, "mia@acme.test", "invited", ""},
			{3, "noah@gmail.com", "refused", "R-USER-7"},
			{4, "not-an-email", "refused", ""},
			{5, "olga@acme.test", "refused", "R-ROLE-4"},
			{6, "paul@acme.test", "invited", ""},
		} {
			require.Equal(t, want.line, rows[i].num("line"), "row %d", i)
			require.Equal(t, want.email, rows[i].str("email"), "row %d", i)
			require.Equal(t, want.result, rows[i].str("result"), "row %d", i)
			require.Equal(t, want.rule, rows[i].str("rule"), "row %d", i)
		}
		require.False(t, f.ok("org", "disable-bulk-import", "--org", A).flag("bulk_import_enabled"))

		// Accounts.
		p := f.ok("account", "create", "--org", A, "--name", "Prod", "--usage", "flex")
		require.Regexp(t, `^AC[0-9a-f]{32}$`, p.str("sid"))
		for key, want := range map[string]string{"friendly_name": "Prod", "status": "active", "type": "Trial",
			"relation": "managed", "owner_sid": f.ownerA, "usage": "flex"} {
			require.Equal(t, want, p.str(key), key)
		}
		require.Contains(t, p, "hipaa")
		require.NotEmpty(t, p.str("auth_token"))
		prod := p.str("sid")
		kp := f.ok("account", "create", "--org", A, "--name", "Kate's", "--as", kate)
		require.Equal(t, kate, kp.str("owner_sid"), "the creator owns it (R-ACCT-2)")
		accts := f.ok("account", "list", "--org", A).list("accounts")
		for _, sid := range []string{f.acctA, prod, kp.str("sid")} {
			require.Equal(t, "managed", find(accts, "sid", sid).str("relation"), sid)
		}
		mine := f.ok("account", "list", "--org", A, "--as", kate).list("accounts")
		require.Len(t, mine, 1, "a Standard user sees the accounts it owns or was granted")
		require.Equal(t, "flex", f.ok("account", "show", "--account", prod).str("usage"))
		require.Equal(t, "Production", f.ok("account", "rename", "--account", prod, "--name", "Production").str("friendly_name"))
		g := f.ok("account", "grant", "--account", prod, "--user", kate, "--role", "support")
		require.Regexp(t, `^IY[0-9a-f]{32}$`, g.str("sid"))
		require.Equal(t, "support", g.str("role"))
		require.Equal(t, "revoked", f.ok("account", "revoke", "--account", prod, "--user", kate).str("status"))
		require.Equal(t, alice, f.ok("account", "transfer", "--account", prod, "--to", "alice@acme.test").str("owner_sid"))
		scratch := f.ok("account", "create", "--org", A, "--name", "Scratch").str("sid")
		require.Equal(t, "suspended", f.ok("account", "suspend", "--account", scratch).str("status"))
		require.Equal(t, "active", f.ok("account", "reactivate", "--account", scratch).str("status"))
		require.Equal(t, "closed", f.ok("account", "close", "--account", scratch).str("status"))

		// Upgrade, HIPAA, credentials and subaccounts.
		require.Equal(t, "Full", f.ok("account", "upgrade", "--account", f.acctA).str("type"))
		require.NotEmpty(t, f.ok("org", "record-baa", "--org", A).str("baa_at"))
		require.True(t, f.ok("org", "show", "--org", A).flag("baa"))
		require.True(t, f.ok("account", "hipaa", "--account", f.acctA, "--enabled=true").flag("hipaa"))
		require.NotEmpty(t, f.ok("account", "rotate-token", "--account", f.acctA).str("auth_token"))
		key := f.ok("account", "keys", "create", "--account", f.acctA, "--name", "ci")
		require.Regexp(t, `^SK[0-9a-f]{32}$`, key.str("sid"))
		require.NotEmpty(t, key.str("secret"))
		keys := f.ok("account", "keys", "list", "--account", f.acctA).list("keys")
		require.Len(t, keys, 1)
		require.NotContains(t, keys[0], "secret")
		require.Equal(t, "deleted", f.ok("account", "keys", "delete", "--account", f.acctA, "--key", key.str("sid")).str("status"))
		sub := f.ok("subaccount", "create", "--parent", f.acctA, "--name", "Sub")
		require.Equal(t, f.acctA, sub.str("parent_sid"))
		require.Equal(t, "active", sub.str("status"))
		require.True(t, sub.flag("hipaa"), "a subaccount inherits its parent's flag (R-HIPAA-3)")
		require.Len(t, f.ok("subaccount", "list", "--parent", f.acctA).list("accounts"), 1)
		require.Equal(t, 5, f.ok("subaccount", "limit", "--parent", f.acctA, "--limit", "5").num("subaccount_limit"))
		require.Equal(t, 20, f.ok("org", "set-limit", "--org", A, "--accounts", "20").num("account_limit"))
		s := find(f.ok("account", "list", "--org", A).list("accounts"), "sid", sub.str("sid"))
		require.Equal(t, "subaccount", s.str("relation"))
		require.Equal(t, f.acctA, s.str("parent_sid"))

		// Independent accounts.
		require.Equal(t, "independent", f.ok("account", "link", "--account", prod, "--org", f.orgB).str("relation"))
		require.Equal(t, "independent", find(f.ok("account", "list", "--org", f.orgB).list("accounts"), "sid", prod).str("relation"))
		require.Equal(t, "unlinked", f.ok("account", "unlink", "--account", prod, "--org", f.orgB).str("status"))

		// Importing an account: refused once through the mailed link, then
		// confirmed by its owner, who moves with it.
		require.Equal(t, "pending", f.ok("account", "import", "--org", A, "--account", f.acctIvan).str("relation"))
		f.ok("account", "confirm", "--token", importToken(t, f), "--refuse")
		require.Equal(t, f.orgC, f.ok("account", "show", "--account", f.acctIvan).str("organization_sid"), "a refusal changes nothing")
		f.ok("account", "import", "--org", A, "--account", f.acctIvan)
		cf := f.ok("account", "confirm", "--account", f.acctIvan, "--as", f.ivan)
		require.Equal(t, A, cf.str("organization_sid"))
		require.Equal(t, "managed", cf.str("relation"))
		require.Equal(t, "standard", f.ok("user", "show", "--org", A, "--user", f.ivan).str("role"))

		// Merging, and the Owner role.
		pf := f.ok("org", "preflight-merge", "--prime", A, "--candidate", f.orgD)
		require.True(t, pf.flag("ok"), "%v", pf)
		require.Len(t, pf.list("checks"), 4)
		mg := f.ok("org", "merge", "--prime", A, "--candidate", f.orgD)
		require.Equal(t, A, mg.str("prime"))
		require.Equal(t, f.orgD, mg.str("candidate"))
		require.Equal(t, 1, mg.num("accounts_moved"))
		require.Equal(t, 1, mg.num("users_moved"))
		f.refused(4, "", "org", "show", "--org", f.orgD)
		require.Equal(t, alice, f.ok("owner", "transfer", "--org", A, "--to", alice).str("owner_sid"))
		require.Equal(t, "removed", f.ok("user", "remove", "--org", A, "--user", f.ivan, "--as", alice).str("status"))

		// The audit log, the outbox, the schema.
		evs := f.ok("audit", "list", "--org", A, "--limit", "3").list("events")
		require.Len(t, evs, 3)
		for _, e := range evs {
			require.Regexp(t, `^AE[0-9a-f]{32}$`, e.str("sid"))
			for _, key := range []string{"actor", "action", "target", "at"} {
				require.NotEmpty(t, e.str(key), "event %v lacks %s", e, key)
			}
		}
		require.Equal(t, "user.remove", evs[0].str("action"))
		require.Equal(t, alice, evs[0].str("actor"))
		require.NotNil(t, find(f.ok("audit", "list", "--action", "org.").list("events"), "action", "org.merge"))
		v := f.ok("audit", "verify")
		require.Equal(t, "ok", v.str("status"))
		require.Greater(t, v.num("events"), 10)
		require.Equal(t, 1, f.ok("audit", "verify", "--org", A).num("chains"))
		f.refused(3, "R-ROLE-3", "audit", "verify", "--as", alice)
		f.refused(2, "", "audit", "verify", "--org", "ORnope")
		require.NotEmpty(t, f.ok("mail", "list").list("messages"))
		require.Contains(t, []string{"sqlite", "postgres"}, f.ok("migrate").str("dialect"))

		// Single sign-on (its own tests: sso_test.go).
		md := filepath.Join(t.TempDir(), "idp.xml")
		require.NoError(t, os.WriteFile(md, ssotest.NewIdP(t, "https://idp.test/metadata", "idp.test", time.Now()).Metadata(), 0o600))
		require.Contains(t, f.ok("sso", "set", "--org", A, "--idp-metadata", md).str("acs_url"), "/sso/saml/"+A+"/acs")

		for _, c := range commands() {
			if !c.raw {
				require.Truef(t, f.ran[c.name], "verb %q has no happy path in this test", c.name)
			}
		}
	})
}

var importTokenRE = regexp.MustCompile(`token=(imp_[0-9a-f]+)`)

// importToken reads the newest import confirmation link mailed to ivan.
func importToken(t *testing.T, f *fixture) string {
	t.Helper()
	for _, m := range f.ok("mail", "list", "--to", "ivan@acme.test").list("messages") {
		if m.str("kind") == "import-confirmation" {
			match := importTokenRE.FindStringSubmatch(m.str("body"))
			require.NotNil(t, match, "the confirmation mail holds the link")
			return match[1]
		}
	}
	t.Fatal("no import confirmation was mailed")
	return ""
}
