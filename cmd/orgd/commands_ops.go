package main

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso"
)

var credentialCommands = []*command{
	{
		name: "scim-token create", synopsis: "--org OR… [--name N]",
		summary: "issue a bearer token for the organization's SCIM client; shown once, stored hashed",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			name := f.str("name", "a `label` for the token (default scim)", false)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.CreateSCIMToken(ctx, c.actor, *org, *name)
			}
		},
	},
	onOrg("scim-token list", "list the organization's SCIM tokens (never their values)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			ts, err := c.svc.ListSCIMTokens(ctx, c.actor, org)
			return listed("tokens", ts, err)
		}),
	{
		name: "scim-token revoke", synopsis: "--org OR… --token T",
		summary: "revoke a SCIM token, given as the token or its id; refused at once everywhere",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			token := f.str("token", "the `token`, or its id from scim-token list", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.RevokeSCIMToken(ctx, c.actor, *org, *token)
			}
		},
	},
	{
		name: "oauth-client create", synopsis: "--org OR… [--name N]",
		summary: "issue client credentials for the Organizations API; the secret is shown once",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			name := f.str("name", "a `label` for the client (default api)", false)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.CreateOAuthClient(ctx, c.actor, *org, *name)
			}
		},
	},
	{
		name: "oauth-client revoke", synopsis: "--org OR… --client OQ…",
		summary: "revoke an OAuth client of the organization",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			client := sidFlag[orgmodel.OAuthClientSID](f, "client", orgmodel.PrefixOAuthClient, "the client id `OQ…`", true)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.RevokeOAuthClient(ctx, c.actor, *org, *client); err != nil {
					return nil, err
				}
				return map[string]string{"client_id": string(*client), "status": "revoked"}, nil
			}
		},
	},
	{
		name: "sso set", synopsis: "--org OR… --idp-metadata FILE|URL [--allow-idp-initiated] [--email-attribute NAME]",
		summary: "configure the organization's SAML identity provider from its metadata (a file or an https URL)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			md := f.str("idp-metadata", "the IdP's metadata XML `FILE` or https URL", true)
			idpInit := f.boolean("allow-idp-initiated", "accept IdP-initiated logins")
			attr := f.str("email-attribute", "the assertion attribute that carries the email (`NAME`; default: the NameID)", false)
			return func(ctx context.Context, c *call) (any, error) {
				if err := requireOrg(ctx, c, *org); err != nil {
					return nil, err
				}
				return sso.Configure(ctx, c.svc, c.actor, *org, c.opts.baseURL,
					sso.SetOptions{Source: *md, AllowIdPInitiated: *idpInit, EmailAttribute: *attr})
			}
		},
	},
}

var opsCommands = []*command{
	{
		name: "audit list", synopsis: "[--org OR…] [--limit N] [--action A] [--actor X]",
		summary: "list audit events, newest first (every organization's for the operator without --org)",
		setup: func(f *flagSet) action {
			org := sidFlag[orgmodel.OrgSID](f, "org", orgmodel.PrefixOrg, "only this organization's `OR…`", false)
			limit := limitFlag(f)
			act := f.str("action", "only this `action` (or a prefix ending in '.', such as user.)", false)
			actor := f.str("actor", "only events by this `actor` (US…, operator, system, scim:…)", false)
			return func(ctx context.Context, c *call) (any, error) {
				if *org != "" {
					if err := requireOrg(ctx, c, *org); err != nil {
						return nil, err
					}
				}
				evs, err := c.svc.ListAudit(ctx, c.actor, orgmodel.AuditFilter{OrgSID: *org, Limit: *limit, Action: *act, Actor: *actor})
				return listed("events", evs, err)
			}
		},
	},
	{
		name: "audit verify", synopsis: "[--org OR…]…",
		summary: "check the audit log's hash chains (every organization's, or those given) and name the first broken link (operator only)",
		setup: func(f *flagSet) action {
			orgs := f.list("org", "only this organization's chain `OR…`; repeatable")
			f.check(func() error {
				for _, o := range *orgs {
					if err := orgmodel.CheckSID("--org", orgmodel.PrefixOrg, o); err != nil {
						return err
					}
				}
				return nil
			})
			return func(ctx context.Context, c *call) (any, error) {
				var sids []orgmodel.OrgSID
				for _, o := range *orgs {
					sids = append(sids, orgmodel.OrgSID(o))
				}
				return c.svc.VerifyAudit(ctx, c.actor, sids)
			}
		},
	},
	{
		name: "mail list", synopsis: "[--to EMAIL] [--unsent] [--limit N]",
		summary: "read the outbox, newest first: invitations, import confirmations and reset links (operator only)",
		setup: func(f *flagSet) action {
			to := f.str("to", "only mail to this `address`", false)
			unsent := f.boolean("unsent", "only mail not yet delivered by SMTP")
			limit := limitFlag(f)
			return func(ctx context.Context, c *call) (any, error) {
				ms, err := c.svc.ListMail(ctx, c.actor, orgmodel.MailFilter{To: *to, Unsent: *unsent, Limit: *limit})
				return listed("messages", ms, err)
			}
		},
	},
	{
		name: "migrate", synopsis: "", noActor: true,
		summary: "create or migrate the database schema (every verb does this when needed)",
		setup: func(*flagSet) action {
			return func(_ context.Context, c *call) (any, error) {
				return map[string]string{"dialect": c.db.Dialect(), "status": "migrated"}, nil
			}
		},
	},
	serveCommand,
}

// limitFlag defines --limit, 1 to 1000, default 100.
func limitFlag(f *flagSet) *int {
	n := f.fs.Int("limit", 100, "at most `N` entries (1 to 1000)")
	f.check(func() error {
		if *n < 1 || *n > 1000 {
			return f.usageErr("--limit %d is out of range (1 to 1000)", *n)
		}
		return nil
	})
	return n
}
