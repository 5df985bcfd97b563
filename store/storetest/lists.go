package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

func missesNotFound(e *env) {
	t, ctx := e.t, e.ctx
	// Something exists, so that a miss is a miss and not an empty database.
	o, owner := newOrg("present")
	e.inTx(func(tx orgmodel.Tx) error { return e.createOrg(tx, o, owner) })

	org := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	user := orgmodel.UserSID(orgmodel.NewSID(orgmodel.PrefixUser))
	acct := orgmodel.AccountSID(orgmodel.NewSID(orgmodel.PrefixAccount))
	ghostOrg, ghostUser := newOrg("ghost")
	ghostAcct := newAccount(org, user, "")
	ghostDomain := newDomain(org, "ghost.example")
	h := orgmodel.HashToken("nothing")
	e.inTx(func(tx orgmodel.Tx) error {
		gets := map[string]func() error{
			"GetOrg":             func() error { _, err := tx.GetOrg(ctx, org); return err },
			"LockOrg":            func() error { _, err := tx.LockOrg(ctx, org); return err },
			"GetUser":            func() error { _, err := tx.GetUser(ctx, user); return err },
			"GetUserByEmail":     func() error { _, err := tx.GetUserByEmail(ctx, "nobody@present.example"); return err },
			"OrgOfEmail":         func() error { _, err := tx.OrgOfEmail(ctx, "nobody@present.example"); return err },
			"GetAccount":         func() error { _, err := tx.GetAccount(ctx, acct); return err },
			"GetLink":            func() error { _, err := tx.GetLink(ctx, o.SID, acct); return err },
			"GetLinkByTokenHash": func() error { _, err := tx.GetLinkByTokenHash(ctx, h); return err },
			"GetGrant":           func() error { _, err := tx.GetGrant(ctx, acct, owner.SID); return err },
			"GetGrantBySID": func() error {
				_, err := tx.GetGrantBySID(ctx, orgmodel.RoleAssignmentSID(orgmodel.NewSID("IY")))
				return err
			},
			"GetDomain": func() error { _, err := tx.GetDomain(ctx, o.SID, "present.example"); return err },
			"GetInvitation": func() error {
				_, err := tx.GetInvitation(ctx, orgmodel.InvitationSID(orgmodel.NewSID("NF")))
				return err
			},
			"GetInvitationByTokenHash": func() error { _, err := tx.GetInvitationByTokenHash(ctx, h); return err },
			"GetSCIMTokenByHash":       func() error { _, err := tx.GetSCIMTokenByHash(ctx, h); return err },
			"GetOAuthClient": func() error {
				_, err := tx.GetOAuthClient(ctx, orgmodel.OAuthClientSID(orgmodel.NewSID("OQ")))
				return err
			},
			"GetAPIKey":             func() error { _, err := tx.GetAPIKey(ctx, orgmodel.APIKeySID(orgmodel.NewSID("SK"))); return err },
			"GetSessionByTokenHash": func() error { _, err := tx.GetSessionByTokenHash(ctx, h); return err },
			"GetResetToken":         func() error { _, err := tx.GetResetToken(ctx, h); return err },
			"GetIdP":                func() error { _, err := tx.GetIdP(ctx, o.SID); return err },

			"UpdateOrg":     func() error { return tx.UpdateOrg(ctx, ghostOrg) },
			"DeleteOrg":     func() error { return tx.DeleteOrg(ctx, org) },
			"UpdateUser":    func() error { return tx.UpdateUser(ctx, ghostUser) },
			"DeleteUser":    func() error { return tx.DeleteUser(ctx, user) },
			"UpdateAccount": func() error { return tx.UpdateAccount(ctx, ghostAcct) },
			"DeleteLink":    func() error { return tx.DeleteLink(ctx, o.SID, acct) },
			"DeleteGrant":   func() error { return tx.DeleteGrant(ctx, acct, owner.SID) },
			"UpdateDomain":  func() error { return tx.UpdateDomain(ctx, ghostDomain) },
			"DeleteDomain":  func() error { return tx.DeleteDomain(ctx, ghostDomain.SID) },
			"UpdateInvitation": func() error {
				return tx.UpdateInvitation(ctx, &orgmodel.Invitation{SID: orgmodel.InvitationSID(orgmodel.NewSID("NF")), Status: orgmodel.InvitationRevoked})
			},
			"UpdateSCIMToken": func() error { return tx.UpdateSCIMToken(ctx, &orgmodel.SCIMToken{ID: "none", Name: "x"}) },
			"UpdateOAuthClient": func() error {
				return tx.UpdateOAuthClient(ctx, &orgmodel.OAuthClient{SID: orgmodel.OAuthClientSID(orgmodel.NewSID("OQ")), Name: "x"})
			},
			"DeleteAPIKey":     func() error { return tx.DeleteAPIKey(ctx, orgmodel.APIKeySID(orgmodel.NewSID("SK"))) },
			"UpdateSession":    func() error { return tx.UpdateSession(ctx, &orgmodel.Session{ID: "none"}) },
			"UpdateResetToken": func() error { return tx.UpdateResetToken(ctx, &orgmodel.ResetToken{TokenHash: h}) },
			"DeleteIdP":        func() error { return tx.DeleteIdP(ctx, o.SID) },
			"FinishMail":       func() error { return tx.FinishMail(ctx, &orgmodel.Mail{ID: 1 << 40}) },
		}
		for _, name := range slices.Sorted(maps.Keys(gets)) {
			requireNotFound(t, gets[name](), name)
		}
		return nil
	})
	// Set operations on nothing succeed and report nothing.
	e.inTx(func(tx orgmodel.Tx) error {
		n, err := tx.EndUserSessions(ctx, user, "x", at(0))
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = tx.DeleteUserGrants(ctx, user)
		require.NoError(t, err)
		require.Zero(t, n)
		require.NoError(t, tx.DeleteResetTokens(ctx, user))
		us, err := tx.ListUsers(ctx, orgmodel.UserFilter{OrgSID: org})
		require.NoError(t, err)
		require.Empty(t, us)
		return nil
	})
}

// pages reads a list page by page with keyset paging and returns the pages.
func pages[T any](t *testing.T, size int, page func(after string) []*T, key func(*T) string) [][]*T {
	t.Helper()
	var out [][]*T
	after := ""
	for range 1000 {
		p := page(after)
		require.LessOrEqual(t, len(p), size, "a page holds at most Limit rows")
		if len(p) == 0 {
			return out
		}
		out = append(out, p)
		after = key(p[len(p)-1])
	}
	t.Fatal("paging does not end")
	return nil
}

func listUsers(e *env) {
	t, ctx := e.t, e.ctx
	a, aOwner := newOrg("alpha")
	b, bOwner := newOrg("beta")
	all := []*orgmodel.User{aOwner, bOwner}
	for i := range 9 {
		org := a.SID
		if i%3 == 2 {
			org = b.SID
		}
		u := newUser(org, fmt.Sprintf("u%d@x.example", i), orgmodel.RoleStandard)
		if i%2 == 1 {
			u.Role = orgmodel.RoleAdministrator
		}
		if i%4 == 0 {
			u.Status = orgmodel.UserInactive
		}
		all = append(all, u)
	}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, a, aOwner))
		require.NoError(t, e.createOrg(tx, b, bOwner))
		for _, u := range all[2:] {
			require.NoError(t, tx.CreateUser(ctx, u))
		}
		return nil
	})
	slices.SortFunc(all, func(x, y *orgmodel.User) int { return strings.Compare(string(x.SID), string(y.SID)) })
	match := func(f orgmodel.UserFilter) []orgmodel.UserSID {
		out := []orgmodel.UserSID{}
		for _, u := range all {
			if (f.OrgSID == "" || u.OrgSID == f.OrgSID) && (f.Role == "" || u.Role == f.Role) && (f.Status == "" || u.Status == f.Status) {
				out = append(out, u.SID)
			}
		}
		return out
	}
	sids := func(us []*orgmodel.User) []orgmodel.UserSID {
		out := []orgmodel.UserSID{}
		for _, u := range us {
			out = append(out, u.SID)
		}
		return out
	}
	filters := []orgmodel.UserFilter{
		{}, {OrgSID: a.SID}, {OrgSID: b.SID}, {Role: orgmodel.RoleAdministrator}, {OrgSID: a.SID, Role: orgmodel.RoleOwner},
		{OrgSID: a.SID, Status: orgmodel.UserInactive}, {OrgSID: b.SID, Role: orgmodel.RoleStandard, Status: orgmodel.UserActive},
	}
	e.read(func(tx orgmodel.Tx) error {
		for _, f := range filters {
			want := match(f)
			got, err := tx.ListUsers(ctx, f)
			require.NoError(t, err)
			require.Equal(t, want, sids(got), "ListUsers(%+v), by SID", f)
			n, err := tx.CountUsers(ctx, f)
			require.NoError(t, err)
			require.Equal(t, len(want), n, "CountUsers(%+v)", f)
			// Keyset paging returns the same rows, in the same order, page by page.
			paged := []orgmodel.UserSID{}
			for _, p := range pages(t, 2, func(after string) []*orgmodel.User {
				g := f
				g.AfterSID, g.Limit = orgmodel.UserSID(after), 2
				us, err := tx.ListUsers(ctx, g)
				require.NoError(t, err)
				return us
			}, func(u *orgmodel.User) string { return string(u.SID) }) {
				paged = append(paged, sids(p)...)
			}
			require.Equal(t, want, paged, "ListUsers(%+v) paged by 2", f)
		}
		return nil
	})
}

func listAccounts(e *env) {
	t, ctx := e.t, e.ctx
	a, aOwner := newOrg("alpha")
	b, bOwner := newOrg("beta")
	u2 := newUser(a.SID, "two@alpha.example", orgmodel.RoleStandard)
	var all []*orgmodel.Account
	add := func(org orgmodel.OrgSID, owner orgmodel.UserSID, parent orgmodel.AccountSID, status orgmodel.AccountStatus, name string) *orgmodel.Account {
		x := newAccount(org, owner, parent)
		x.Status, x.FriendlyName = status, name
		all = append(all, x)
		return x
	}
	a1 := add(a.SID, aOwner.SID, "", orgmodel.AccountActive, "Prod")
	add(a.SID, u2.SID, "", orgmodel.AccountActive, "Dev")
	add(a.SID, aOwner.SID, "", orgmodel.AccountClosed, "Old")
	add(a.SID, aOwner.SID, "", orgmodel.AccountSuspended, "Twin")
	a5 := add(a.SID, u2.SID, "", orgmodel.AccountActive, "Twin")
	add(a.SID, "", a1.SID, orgmodel.AccountActive, "Sub 1")
	add(a.SID, "", a1.SID, orgmodel.AccountClosed, "Sub 2")
	add(a.SID, "", a5.SID, orgmodel.AccountSuspended, "Twin")
	b1 := add(b.SID, bOwner.SID, "", orgmodel.AccountActive, "Prod")
	add(b.SID, "", b1.SID, orgmodel.AccountActive, "Sub 1")
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, a, aOwner))
		require.NoError(t, e.createOrg(tx, b, bOwner))
		require.NoError(t, tx.CreateUser(ctx, u2))
		for _, x := range all {
			require.NoError(t, tx.CreateAccount(ctx, x))
		}
		return nil
	})
	slices.SortFunc(all, func(x, y *orgmodel.Account) int { return strings.Compare(string(x.SID), string(y.SID)) })
	match := func(f orgmodel.AccountFilter) []orgmodel.AccountSID {
		out := []orgmodel.AccountSID{}
		for _, x := range all {
			if (f.OrgSID == "" || x.OrgSID == f.OrgSID) && (f.OwnerSID == "" || x.OwnerSID == f.OwnerSID) &&
				(f.ParentSID == "" || x.ParentSID == f.ParentSID) && (!f.TopLevel || x.ParentSID == "") &&
				(!f.NotClosed || x.Status != orgmodel.AccountClosed) && (f.Status == "" || x.Status == f.Status) &&
				(f.FriendlyName == "" || x.FriendlyName == f.FriendlyName) {
				out = append(out, x.SID)
			}
		}
		return out
	}
	sids := func(xs []*orgmodel.Account) []orgmodel.AccountSID {
		out := []orgmodel.AccountSID{}
		for _, x := range xs {
			out = append(out, x.SID)
		}
		return out
	}
	filters := []orgmodel.AccountFilter{
		{}, {OrgSID: a.SID}, {OrgSID: b.SID}, {OwnerSID: u2.SID}, {OrgSID: a.SID, OwnerSID: aOwner.SID, TopLevel: true},
		{ParentSID: a1.SID}, {ParentSID: a1.SID, NotClosed: true}, {OrgSID: a.SID, TopLevel: true, NotClosed: true},
		{Status: orgmodel.AccountSuspended}, {OrgSID: a.SID, FriendlyName: "Twin"}, {FriendlyName: "Prod"},
		{OrgSID: a.SID, FriendlyName: "Twin", TopLevel: true, Status: orgmodel.AccountActive},
	}
	e.read(func(tx orgmodel.Tx) error {
		for _, f := range filters {
			want := match(f)
			got, err := tx.ListAccounts(ctx, f)
			require.NoError(t, err)
			require.Equal(t, want, sids(got), "ListAccounts(%+v), by SID", f)
			n, err := tx.CountAccounts(ctx, f)
			require.NoError(t, err)
			require.Equal(t, len(want), n, "CountAccounts(%+v)", f)
			paged := []orgmodel.AccountSID{}
			for _, p := range pages(t, 3, func(after string) []*orgmodel.Account {
				g := f
				g.AfterSID, g.Limit = orgmodel.AccountSID(after), 3
				xs, err := tx.ListAccounts(ctx, g)
				require.NoError(t, err)
				return xs
			}, func(x *orgmodel.Account) string { return string(x.SID) }) {
				paged = append(paged, sids(p)...)
			}
			require.Equal(t, want, paged, "ListAccounts(%+v) paged by 3", f)
		}
		return nil
	})
	// MoveAccounts moves every account of an organization, subaccounts
	// too, and counts the top-level ones.
	e.inTx(func(tx orgmodel.Tx) error {
		n, err := tx.MoveAccounts(ctx, b.SID, a.SID, at(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		return nil
	})
	e.read(func(tx orgmodel.Tx) error {
		n, err := tx.CountAccounts(ctx, orgmodel.AccountFilter{OrgSID: b.SID})
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = tx.CountAccounts(ctx, orgmodel.AccountFilter{OrgSID: a.SID})
		require.NoError(t, err)
		require.Equal(t, len(all), n)
		return nil
	})
}

func listGrants(e *env) {
	t, ctx := e.t, e.ctx
	a, aOwner := newOrg("alpha")
	b, bOwner := newOrg("beta")
	users := []*orgmodel.User{
		newUser(a.SID, "g1@alpha.example", orgmodel.RoleStandard), newUser(a.SID, "g2@alpha.example", orgmodel.RoleStandard),
		newUser(b.SID, "g3@beta.example", orgmodel.RoleStandard),
	}
	accts := []*orgmodel.Account{newAccount(a.SID, aOwner.SID, ""), newAccount(a.SID, aOwner.SID, ""), newAccount(b.SID, bOwner.SID, "")}
	var all []*orgmodel.Grant
	for i, u := range users {
		for j, x := range accts {
			if (i+j)%4 == 3 {
				continue
			}
			all = append(all, &orgmodel.Grant{SID: orgmodel.RoleAssignmentSID(orgmodel.NewSID(orgmodel.PrefixRoleAssignment)),
				AccountSID: x.SID, UserSID: u.SID, OrgSID: u.OrgSID, Role: orgmodel.AccountDeveloper, CreatedAt: at(0)})
		}
	}
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, a, aOwner))
		require.NoError(t, e.createOrg(tx, b, bOwner))
		for _, u := range users {
			require.NoError(t, tx.CreateUser(ctx, u))
		}
		for _, x := range accts {
			require.NoError(t, tx.CreateAccount(ctx, x))
		}
		for _, g := range all {
			require.NoError(t, tx.PutGrant(ctx, g))
		}
		return nil
	})
	slices.SortFunc(all, func(x, y *orgmodel.Grant) int { return strings.Compare(string(x.SID), string(y.SID)) })
	match := func(f orgmodel.GrantFilter) []orgmodel.RoleAssignmentSID {
		out := []orgmodel.RoleAssignmentSID{}
		for _, g := range all {
			if (f.OrgSID == "" || g.OrgSID == f.OrgSID) && (f.UserSID == "" || g.UserSID == f.UserSID) &&
				(f.AccountSID == "" || g.AccountSID == f.AccountSID) {
				out = append(out, g.SID)
			}
		}
		return out
	}
	sids := func(gs []*orgmodel.Grant) []orgmodel.RoleAssignmentSID {
		out := []orgmodel.RoleAssignmentSID{}
		for _, g := range gs {
			out = append(out, g.SID)
		}
		return out
	}
	filters := []orgmodel.GrantFilter{
		{}, {OrgSID: a.SID}, {OrgSID: b.SID}, {UserSID: users[0].SID}, {AccountSID: accts[2].SID},
		{OrgSID: a.SID, AccountSID: accts[0].SID}, {UserSID: users[1].SID, AccountSID: accts[1].SID},
	}
	e.read(func(tx orgmodel.Tx) error {
		for _, f := range filters {
			want := match(f)
			got, err := tx.ListGrants(ctx, f)
			require.NoError(t, err)
			require.Equal(t, want, sids(got), "ListGrants(%+v), by SID", f)
			paged := []orgmodel.RoleAssignmentSID{}
			for _, p := range pages(t, 2, func(after string) []*orgmodel.Grant {
				g := f
				g.AfterSID, g.Limit = orgmodel.RoleAssignmentSID(after), 2
				gs, err := tx.ListGrants(ctx, g)
				require.NoError(t, err)
				return gs
			}, func(g *orgmodel.Grant) string { return string(g.SID) }) {
				paged = append(paged, sids(p)...)
			}
			require.Equal(t, want, paged, "ListGrants(%+v) paged by 2", f)
		}
		return nil
	})
}

func listAudit(e *env) {
	t, ctx := e.t, e.ctx
	a := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	b := orgmodel.OrgSID(orgmodel.NewSID(orgmodel.PrefixOrg))
	actions := []string{"user.invite", "user.remove", "users.export", "user", "userx.a", "org.rename", "user.invite"}
	var all []*orgmodel.AuditEvent
	for i := range 21 {
		org := a
		if i%5 == 4 {
			org = b
		}
		all = append(all, &orgmodel.AuditEvent{
			OrgSID: org, Actor: fmt.Sprintf("US%032d", i%3), Via: "console", Action: actions[i%len(actions)],
			Target: fmt.Sprintf("T%d", i%4), At: at(time.Duration(i) * time.Minute),
		})
	}
	e.inTx(func(tx orgmodel.Tx) error {
		for _, ev := range all {
			require.NoError(t, tx.AppendAudit(ctx, ev))
		}
		return nil
	})
	slices.Reverse(all) // newest first
	match := func(f orgmodel.AuditFilter) []int64 {
		out := []int64{}
		for _, ev := range all {
			act := ev.Action == f.Action || (strings.HasSuffix(f.Action, ".") && strings.HasPrefix(ev.Action, f.Action))
			if (f.OrgSID == "" || ev.OrgSID == f.OrgSID) && (f.Actor == "" || ev.Actor == f.Actor) && (f.Action == "" || act) &&
				(f.Target == "" || ev.Target == f.Target) && (f.Since.IsZero() || !ev.At.Before(f.Since)) &&
				(f.Until.IsZero() || ev.At.Before(f.Until)) && (f.BeforeSeq == 0 || ev.Seq < f.BeforeSeq) {
				out = append(out, ev.Seq)
			}
		}
		if f.Limit > 0 && len(out) > f.Limit {
			out = out[:f.Limit]
		}
		return out
	}
	seqs := func(evs []*orgmodel.AuditEvent) []int64 {
		out := []int64{}
		for _, ev := range evs {
			out = append(out, ev.Seq)
		}
		return out
	}
	filters := []orgmodel.AuditFilter{
		{}, {OrgSID: a}, {OrgSID: b}, {OrgSID: a, Actor: fmt.Sprintf("US%032d", 1)},
		{OrgSID: a, Action: "user.invite"}, {OrgSID: a, Action: "user."}, {Action: "user."}, {Action: "user"},
		{OrgSID: a, Target: "T2"}, {OrgSID: a, Since: at(5 * time.Minute), Until: at(12 * time.Minute)},
		{Since: at(20 * time.Minute)}, {Until: at(time.Minute)}, {OrgSID: a, BeforeSeq: all[5].Seq},
		{OrgSID: a, Limit: 4}, {OrgSID: a, Action: "user.", Target: "T1", Limit: 2},
		{OrgSID: a, Actor: fmt.Sprintf("US%032d", 0), Since: at(3 * time.Minute), BeforeSeq: all[2].Seq, Limit: 3},
	}
	e.read(func(tx orgmodel.Tx) error {
		for _, f := range filters {
			got, err := tx.ListAudit(ctx, f)
			require.NoError(t, err)
			require.Equal(t, match(f), seqs(got), "ListAudit(%+v), newest first", f)
		}
		// Paging newest first with BeforeSeq walks the whole log once.
		var walked []int64
		for before := int64(0); ; {
			p, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: a, BeforeSeq: before, Limit: 4})
			require.NoError(t, err)
			if len(p) == 0 {
				break
			}
			walked = append(walked, seqs(p)...)
			before = p[len(p)-1].Seq
		}
		require.Equal(t, match(orgmodel.AuditFilter{OrgSID: a}), walked)
		return nil
	})
}
