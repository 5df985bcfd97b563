package main

import (
	"context"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

// groupCommands manage the groups identity providers provision through
// SCIM, and what membership of one gives.
var groupCommands = []*command{
	{
		name: "group create", synopsis: "--org OR… --name N",
		summary: "create a group (identity providers create theirs through SCIM); its name is unique in the organization, without regard to case",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			name := f.str("name", "the group's display `name`", true)
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.CreateGroup(ctx, c.actor, *org, orgmodel.GroupInput{DisplayName: *name})
			}
		},
	},
	onOrg("group list", "list the organization's groups with what membership gives (role, accounts)",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			var all []*orgmodel.Group
			for {
				gs, total, err := c.svc.SearchGroups(ctx, c.actor, org, orgmodel.Query{
					Sort: orgmodel.Sort{Col: orgmodel.GroupColName}, Offset: len(all), Limit: orgmodel.MaxQueryLimit})
				if err != nil {
					return nil, err
				}
				all = append(all, gs...)
				if len(gs) == 0 || len(all) >= total {
					return listed("groups", all, nil)
				}
			}
		}),
	{
		name: "group map", synopsis: "--org OR… --group GR… [--role administrator|none] [--account AC…[:ROLE]]…",
		summary: "set what membership of a group gives: the Administrator role, access to accounts; members gain and lose it as they join and leave",
		setup: func(f *flagSet) action {
			org := orgFlag(f)
			group := sidFlag[orgmodel.GroupSID](f, "group", orgmodel.PrefixGroup, "the group `GR…`", true)
			role := f.str("role", "the organization `role` members get: administrator, or none (default none)", false)
			accts := f.list("account", "give members access to the account `AC…[:ROLE]` (ROLE: developer, billing, support, administrator; default developer); repeatable")
			return func(ctx context.Context, c *call) (any, error) {
				r := *role
				if r == "none" {
					r = ""
				}
				var access []orgmodel.GroupAccess
				for _, a := range *accts {
					sid, ar, _ := strings.Cut(a, ":")
					if err := orgmodel.CheckSID("--account", orgmodel.PrefixAccount, sid); err != nil {
						return nil, err
					}
					parsed, err := orgmodel.ParseAccountRole("--account role", ar)
					if err != nil {
						return nil, err
					}
					access = append(access, orgmodel.GroupAccess{AccountSID: orgmodel.AccountSID(sid), Role: parsed})
				}
				return c.svc.MapGroup(ctx, c.actor, *org, *group, r, access)
			}
		},
	},
}
