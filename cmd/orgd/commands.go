package main

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

// Flags that many verbs share.

func orgFlag(f *flagSet) *orgmodel.OrgSID {
	return sidFlag[orgmodel.OrgSID](f, "org", orgmodel.PrefixOrg, "the organization `OR…`", true)
}

func userFlag(f *flagSet) *orgmodel.UserSID {
	return sidFlag[orgmodel.UserSID](f, "user", orgmodel.PrefixUser, "the user `US…`", true)
}

func accountFlag(f *flagSet, name, usage string) *orgmodel.AccountSID {
	return sidFlag[orgmodel.AccountSID](f, name, orgmodel.PrefixAccount, usage, true)
}

// listed wraps a listing as {"key": [...]}, never null.
func listed[T any](key string, items []T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	return map[string]any{key: items}, nil
}

// done is what a verb whose service call returns nothing prints.
type done struct {
	SID    string `json:"sid,omitempty"`
	Status string `json:"status"`
}

// requireOrg answers NotFound for an organization that does not exist.
// ListInvitations and ListAudit let the operator list an unknown
// organization's (nothing) instead of saying it does not exist; the
// operator's typo should not look like an empty organization.
func requireOrg(ctx context.Context, c *call, org orgmodel.OrgSID) error {
	if !c.actor.Operator {
		return nil // a user's call is checked against the user's organization
	}
	_, err := c.svc.ShowOrg(ctx, c.actor, org)
	return err
}

// Most verbs act on one object named by one or two SID flags; these build them.

// onOrg is a verb taking only --org OR….
func onOrg(name, summary string, fn func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error)) *command {
	return &command{name: name, synopsis: "--org OR…", summary: summary, setup: func(f *flagSet) action {
		org := orgFlag(f)
		return func(ctx context.Context, c *call) (any, error) { return fn(ctx, c, *org) }
	}}
}

// onMember is a verb taking --org OR… --user US….
func onMember(name, summary string, fn func(ctx context.Context, c *call, org orgmodel.OrgSID, user orgmodel.UserSID) (any, error)) *command {
	return &command{name: name, synopsis: "--org OR… --user US…", summary: summary, setup: func(f *flagSet) action {
		org, user := orgFlag(f), userFlag(f)
		return func(ctx context.Context, c *call) (any, error) { return fn(ctx, c, *org, *user) }
	}}
}

// onAccount is a verb taking only --account AC….
func onAccount(name, summary string, fn func(ctx context.Context, c *call, acct orgmodel.AccountSID) (any, error)) *command {
	return &command{name: name, synopsis: "--account AC…", summary: summary, setup: func(f *flagSet) action {
		acct := accountFlag(f, "account", "the account `AC…`")
		return func(ctx context.Context, c *call) (any, error) { return fn(ctx, c, *acct) }
	}}
}
