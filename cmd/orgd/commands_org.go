package main

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

var signupCommands = []*command{
	{
		name: "signup", synopsis: `--email E --password P [--name "Friendly Name"]`, noActor: true,
		summary: "sign a person up: a new organization with them as Owner and a first trial account, or what their email domain's sign-up setting decides",
		setup: func(f *flagSet) action {
			email := f.str("email", "the person's email `address`", true)
			pw := f.str("password", "their `password` (at least 12 characters)", true)
			name := f.str("name", "friendly `name` of the new organization and its first account", false)
			return func(ctx context.Context, c *call) (any, error) {
				// The operator vouches for the address, as the web flow's
				// confirmation link does (R-DOM-3 auto-enrollment needs it).
				return c.svc.SignUp(ctx, c.actor, orgmodel.SignUpInput{Email: *email, Password: *pw, Name: *name, EmailVerified: true})
			}
		},
	},
}

var orgCommands = []*command{
	onOrg("org show", "show an organization: owner, account limit, BAA, domains and counts",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			return c.svc.ShowOrg(ctx, c.actor, org)
		}),
	{
		name: "org rename", synopsis: "--org OR… --name N",
		summary: "change an organization's friendly name",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			name := f.str("name", "the new friendly `name`", true)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.RenameOrg(ctx, c.actor, *org, *name) }
		},
	},
	{
		name: "org set-limit", synopsis: "--org OR… --accounts N",
		summary: "set how many managed accounts an organization may hold (operator only, R-HIER-3)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			n := f.integer("accounts", "the limit `N`", true)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.SetAccountLimit(ctx, c.actor, *org, *n) }
		},
	},
	onOrg("org record-baa", "record the organization's executed BAA, its HIPAA designation (R-HIPAA-1)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			return c.svc.RecordBAA(ctx, c.actor, org)
		}),
	onOrg("org enable-bulk-import", "let an organization import users in bulk (operator only, R-USER-6)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			return c.svc.EnableBulkImport(ctx, c.actor, org, true)
		}),
	onOrg("org disable-bulk-import", "turn bulk user import off again (operator only, R-USER-6)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			return c.svc.EnableBulkImport(ctx, c.actor, org, false)
		}),
	{
		name: "org preflight-merge", synopsis: "--prime OR… --candidate OR…",
		summary: "tell, rule by rule, whether the candidate can merge into the prime; changes nothing",
		setup: func(f *flagSet) action {
			prime := sidFlag[orgmodel.OrgSID](f, "prime", orgmodel.PrefixOrg, "the organization `OR…` that absorbs", true)
			cand := sidFlag[orgmodel.OrgSID](f, "candidate", orgmodel.PrefixOrg, "the organization `OR…` absorbed", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.PreflightMerge(ctx, c.actor, *prime, *cand)
			}
		},
	},
	{
		name: "org merge", synopsis: "--prime OR… --candidate OR…",
		summary: "merge the candidate into the prime, all or nothing (R-MERGE-1…7)",
		setup: func(f *flagSet) action {
			prime := sidFlag[orgmodel.OrgSID](f, "prime", orgmodel.PrefixOrg, "the organization `OR…` that absorbs", true)
			cand := sidFlag[orgmodel.OrgSID](f, "candidate", orgmodel.PrefixOrg, "the organization `OR…` absorbed; it ceases to exist", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.MergeOrgs(ctx, c.actor, *prime, *cand)
			}
		},
	},
	{
		name: "owner transfer", synopsis: "--org OR… --to US…|EMAIL",
		summary: "make another managed user the Owner; the old Owner becomes Administrator (R-ROLE-4)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			to := f.str("to", "the new Owner, by `US…` or email", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.TransferOwnership(ctx, c.actor, *org, *to)
			}
		},
	},
}
