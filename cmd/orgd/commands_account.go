package main

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

// accountStatus is one of the lifecycle verbs of R-ACCT-9.
func accountStatus(verb string, status orgmodel.AccountStatus, summary string) *command {
	return onAccount("account "+verb, summary, func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error) {
		return c.svc.SetAccountStatus(ctx, c.actor, acct, status)
	})
}

var accountCommands = []*command{
	{
		name: "account create", synopsis: "--org OR… --name N [--usage twilio|flex]",
		summary: "create a managed trial account owned by the acting user (the Owner for the operator) (R-ACCT-2)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			name := f.str("name", "its friendly `name`", true)
			usage := f.str("usage", "what it is for: `twilio` or flex (default twilio)", false)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.CreateAccount(ctx, c.actor, *org, *name, *usage)
			}
		},
	},
	{
		name: "account import", synopsis: "--org OR… --account AC…",
		summary: "ask to bring another organization's account in; it stays pending until its owner confirms (R-ACCT-3)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			acct := accountFlag(f, "account", "the account `AC…` to import")
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.ImportAccount(ctx, c.actor, *org, *acct)
			}
		},
	},
	{
		name: "account confirm", synopsis: "--account AC… [--org OR…] [--refuse] --as US… | --token T [--refuse]",
		summary: "answer a pending import as the account's owner (--as), or with the mailed token",
		setup: func(f *flagSet) action {
			acct := sidFlag[orgmodel.AccountSID](f, "account", orgmodel.PrefixAccount, "the pending account `AC…`", false)
			org := sidFlag[orgmodel.OrgSID](f, "org", orgmodel.PrefixOrg, "the importing organization `OR…`, when several asked", false)
			token := f.str("token", "the confirmation `token` from the mailed link, instead of --account", false)
			refuse := f.boolean("refuse", "refuse the import instead of confirming it")
			f.check(func() error {
				if (*acct == "") == (*token == "") {
					return f.usageErr("give either --account or --token")
				}
				return nil
			})
			return func(ctx context.Context, c *call) (any, error) {
				if *token != "" {
					return c.svc.ConfirmImportByToken(ctx, c.actor, *token, !*refuse)
				}
				return c.svc.ConfirmImport(ctx, c.actor, *acct, *org, !*refuse)
			}
		},
	},
	onAccount("account show", "show an account as the actor's organization sees it",
		func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error) {
			return c.svc.GetAccount(ctx, c.actor, acct)
		}),
	onOrg("account list", "list managed, pending and independent accounts with their relation, and subaccounts with parent_sid",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			as, err := c.svc.ListAccounts(ctx, c.actor, org)
			return listed("accounts", as, err)
		}),
	{
		name: "account rename", synopsis: "--account AC… --name N",
		summary: "change an account's friendly name (never an independent account's, R-ACCT-8)",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			name := f.str("name", "the new friendly `name`", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.RenameAccount(ctx, c.actor, *acct, *name)
			}
		},
	},
	{
		name: "account transfer", synopsis: "--account AC… --to US…|EMAIL",
		summary: "give an account to another managed user of the same organization (R-ACCT-5)",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			to := f.str("to", "the new owner, by `US…` or email", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.TransferAccount(ctx, c.actor, *acct, *to)
			}
		},
	},
	accountStatus("suspend", orgmodel.AccountSuspended, "suspend an account and its subaccounts (R-ACCT-9)"),
	accountStatus("reactivate", orgmodel.AccountActive, "reactivate a suspended account and the subaccounts suspended with it"),
	accountStatus("close", orgmodel.AccountClosed, "close an account and its subaccounts; closed is final (R-ACCT-9)"),
	onAccount("account upgrade", "turn a trial account into a full one (operator only; raises the subaccount limit, R-HIER-4)",
		func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error) {
			return c.svc.UpgradeAccount(ctx, c.actor, acct)
		}),
	{
		name: "account hipaa", synopsis: "--account AC… --enabled=true|false",
		summary: "set or clear an account's HIPAA flag, once a BAA is recorded (R-HIPAA-1, R-HIPAA-2)",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			on := f.optBool("enabled", "the flag's new value (`=true|false`)", true)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.SetHIPAA(ctx, c.actor, *acct, **on) }
		},
	},
	{
		name: "account grant", synopsis: "--account AC… --user US… [--role developer|billing|support|administrator]",
		summary: "give a user access to an account the organization manages or holds as independent (R-ROLE-3)",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			user := userFlag(f)
			role := f.str("role", "the account-scope `role`: developer, billing, support or administrator (default developer)", false)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.GrantAccess(ctx, c.actor, *acct, *user, *role)
			}
		},
	},
	{
		name: "account revoke", synopsis: "--account AC… --user US…",
		summary: "remove a user's access to an account",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			user := userFlag(f)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.RevokeAccess(ctx, c.actor, *acct, *user); err != nil {
					return nil, err
				}
				return map[string]string{"account_sid": string(*acct), "user_sid": string(*user), "status": "revoked"}, nil
			}
		},
	},
	{
		name: "account grants", synopsis: "--org OR… [--user US…] [--account AC…]",
		summary: "list the account access an organization has granted",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			user := sidFlag[orgmodel.UserSID](f, "user", orgmodel.PrefixUser, "only this user's `US…`", false)
			acct := sidFlag[orgmodel.AccountSID](f, "account", orgmodel.PrefixAccount, "only this account's `AC…`", false)
			return func(ctx context.Context, c *call) (any, error) {
				gs, err := c.svc.ListGrants(ctx, c.actor, *org, orgmodel.GrantFilter{UserSID: *user, AccountSID: *acct})
				return listed("grants", gs, err)
			}
		},
	},
	{
		name: "account link", synopsis: "--account AC… --org OR…",
		summary: "make a managed account independent for another organization, whose users may then be granted it (R-ACCT-8)",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the managed account `AC…`")
			org := orgFlag(f)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.LinkAccount(ctx, c.actor, *acct, *org) }
		},
	},
	{
		name: "account unlink", synopsis: "--account AC… --org OR…",
		summary: "end an independent link; the grants that organization made on the account go with it",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			org := orgFlag(f)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.UnlinkAccount(ctx, c.actor, *acct, *org); err != nil {
					return nil, err
				}
				return map[string]string{"account_sid": string(*acct), "organization_sid": string(*org), "status": "unlinked"}, nil
			}
		},
	},
	onAccount("account rotate-token", "replace an account's auth token; prints the new one once",
		func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error) {
			return c.svc.RotateAuthToken(ctx, c.actor, acct)
		}),
	{
		name: "account keys create", synopsis: "--account AC… [--name N]",
		summary: "create an API key for an account; prints its secret once",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			name := f.str("name", "the key's friendly `name`", false)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.CreateAPIKey(ctx, c.actor, *acct, *name) }
		},
	},
	onAccount("account keys list", "list an account's API keys (never their secrets)",
		func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error) {
			ks, err := c.svc.ListAPIKeys(ctx, c.actor, acct)
			return listed("keys", ks, err)
		}),
	{
		name: "account keys delete", synopsis: "--account AC… --key SK…",
		summary: "delete one of an account's API keys",
		setup: func(f *flagSet) action {
			acct := accountFlag(f, "account", "the account `AC…`")
			key := sidFlag[orgmodel.APIKeySID](f, "key", orgmodel.PrefixAPIKey, "the API key `SK…`", true)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.DeleteAPIKey(ctx, c.actor, *acct, *key); err != nil {
					return nil, err
				}
				return done{SID: string(*key), Status: "deleted"}, nil
			}
		},
	},
	{
		name: "subaccount create", synopsis: "--parent AC… --name N",
		summary: "create a subaccount under an active parent account (R-HIER-1, R-HIER-4, R-HIPAA-3)",
		setup: func(f *flagSet) action {
			parent := accountFlag(f, "parent", "the parent account `AC…`")
			name := f.str("name", "its friendly `name`", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.CreateSubaccount(ctx, c.actor, *parent, *name)
			}
		},
	},
	{
		name: "subaccount list", synopsis: "--parent AC…",
		summary: "list a parent account's subaccounts",
		setup: func(f *flagSet) action {
			parent := accountFlag(f, "parent", "the parent account `AC…`")
			return func(ctx context.Context, c *call) (any, error) {
				as, err := c.svc.ListSubaccounts(ctx, c.actor, *parent, orgmodel.AccountFilter{})
				return listed("accounts", as, err)
			}
		},
	},
	{
		name: "subaccount limit", synopsis: "--parent AC… --limit N",
		summary: "set how many subaccounts a parent may hold; 0 restores the default (operator only, R-HIER-4)",
		setup: func(f *flagSet) action {
			parent := accountFlag(f, "parent", "the parent account `AC…`")
			n := f.integer("limit", "the limit `N` (0: 1 for trial, 1000 for full accounts)", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.SetSubaccountLimit(ctx, c.actor, *parent, *n)
			}
		},
	},
}
