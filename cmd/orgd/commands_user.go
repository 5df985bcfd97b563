package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

var userCommands = []*command{
	{
		name: "user invite", synopsis: "--org OR… --email E [--role administrator|standard] [--account AC…[:ROLE]]…",
		summary: "invite a person on a verified domain of the organization; mails the link and prints its token",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			email := f.str("email", "the person's email `address`", true)
			role := f.str("role", "their organization `role`: administrator or standard (default standard)", false)
			accts := f.list("account", "give access to the account `AC…[:ROLE]` on acceptance (ROLE: developer, billing, support, administrator; default developer); repeatable")
			return func(ctx context.Context, c *call) (any, error) {
				in := orgmodel.InviteInput{OrgSID: *org, Email: *email, Role: *role}
				for _, a := range *accts {
					sid, r, _ := strings.Cut(a, ":")
					if err := orgmodel.CheckSID("--account", orgmodel.PrefixAccount, sid); err != nil {
						return nil, err
					}
					ar, err := orgmodel.ParseAccountRole("--account role", r)
					if err != nil {
						return nil, err
					}
					in.Accounts = append(in.Accounts, orgmodel.InviteGrant{AccountSID: orgmodel.AccountSID(sid), Role: ar})
				}
				return c.svc.InviteUser(ctx, c.actor, in)
			}
		},
	},
	{
		name: "user accept", synopsis: "--token T --password P", noActor: true,
		summary: "accept an invitation: creates the invited user with this password",
		setup: func(f *flagSet) action {
			token := f.str("token", "the invitation `token`", true)
			pw := f.str("password", "the new user's `password` (at least 12 characters)", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.AcceptInvitation(ctx, c.actor, *token, *pw)
			}
		},
	},
	onOrg("user invitations", "list an organization's invitations",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			if err := requireOrg(ctx, c, org); err != nil {
				return nil, err
			}
			invs, err := c.svc.ListInvitations(ctx, c.actor, org)
			return listed("invitations", invs, err)
		}),
	{
		name: "user revoke-invitation", synopsis: "--org OR… --invitation NF…",
		summary: "withdraw a pending invitation",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			inv := sidFlag[orgmodel.InvitationSID](f, "invitation", orgmodel.PrefixInvitation, "the invitation `NF…`", true)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.RevokeInvitation(ctx, c.actor, *org, *inv); err != nil {
					return nil, err
				}
				return done{SID: string(*inv), Status: string(orgmodel.InvitationRevoked)}, nil
			}
		},
	},
	onOrg("user list", "list an organization's managed users",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			us, err := c.svc.ListUsers(ctx, c.actor, org, orgmodel.UserFilter{})
			return listed("users", us, err)
		}),
	onMember("user show", "show one managed user",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			return c.svc.GetUser(ctx, c.actor, org, user)
		}),
	{
		name: "user role", synopsis: "--org OR… --user US… --role administrator|standard",
		summary: "change a user's role between Administrator and Standard (R-ROLE-3)",
		setup: func(f *flagSet) action {
			org, user := orgFlag(f), userFlag(f)
			role := f.str("role", "the new `role`: administrator or standard", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.SetRole(ctx, c.actor, *org, *user, *role)
			}
		},
	},
	onMember("user remove", "remove a user: sessions end, grants go, their accounts pass to the Owner (R-ROLE-4: never the Owner)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			if err := c.svc.RemoveUser(ctx, c.actor, org, user); err != nil {
				return nil, err
			}
			return done{SID: string(user), Status: "removed"}, nil
		}),
	onMember("user deactivate", "deactivate a user: every session ends and logins are refused",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			return c.svc.SetUserActive(ctx, c.actor, org, user, false)
		}),
	onMember("user reactivate", "reactivate a deactivated user",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			return c.svc.SetUserActive(ctx, c.actor, org, user, true)
		}),
	onMember("user reset-password", "end the user's sessions, stop the old password and mail a reset link valid 24 hours (R-USER-4)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			return c.svc.ResetPassword(ctx, c.actor, org, user)
		}),
	onMember("user reset-2fa", "remove the user's second factor; the next login enrols a new one (R-USER-5)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error) {
			return c.svc.Reset2FA(ctx, c.actor, org, user)
		}),
	{
		name: "user import", synopsis: "--org OR… --file F.csv",
		summary: "invite many people from a CSV (header email,role[,account]), each row on its own (R-USER-6)",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			file := f.str("file", "the CSV `file`", true)
			return func(ctx context.Context, c *call) (any, error) {
				fh, err := os.Open(*file)
				if err != nil {
					return nil, &usageError{fmt.Sprintf("--file: cannot read %q: %v", *file, unwrapPath(err))}
				}
				defer fh.Close()
				rows, err := orgmodel.ParseImportCSV(fh)
				if err != nil {
					return nil, err
				}
				res, err := c.svc.ImportUsers(ctx, c.actor, *org, rows)
				return listed("rows", res, err)
			}
		},
	},
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
