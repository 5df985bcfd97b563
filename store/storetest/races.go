package storetest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// race runs each fn in its own goroutine, released together, and returns
// their errors in order.
func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// concurrentTransfers is R-ROLE-1 under contention: round after round, the
// Owner transfers the role to two Administrators at once. Exactly one
// transfer wins; the other finds it no longer acts as the Owner and fails
// cleanly; the organization always has exactly one Owner, the one
// orgs.owner_sid names.
func concurrentTransfers(e *env) {
	t, ctx := e.t, e.ctx
	r := e.signup("owner@race.example")
	org := r.OrgSID
	e.verified(org, "race.example")
	people := []orgmodel.UserSID{r.UserSID,
		e.member(org, "x@race.example", orgmodel.RoleAdministrator),
		e.member(org, "y@race.example", orgmodel.RoleAdministrator)}
	owner := r.UserSID
	const rounds = 12
	for round := range rounds {
		var to []orgmodel.UserSID
		for _, p := range people {
			if p != owner {
				to = append(to, p)
			}
		}
		errs := race(
			func() error { _, err := e.svc.TransferOwnership(ctx, as(owner), org, string(to[0])); return err },
			func() error { _, err := e.svc.TransferOwnership(ctx, as(owner), org, string(to[1])); return err },
		)
		var winner orgmodel.UserSID
		for i, err := range errs {
			if err == nil {
				require.Empty(t, winner, "round %d: both transfers succeeded", round)
				winner = to[i]
				continue
			}
			// The loser acted as an Owner who no longer is one.
			require.Equal(t, orgmodel.KindForbidden, orgmodel.KindOf(err), "round %d: %v", round, err)
			require.Contains(t, []string{"R-ROLE-3", "R-ROLE-4"}, orgmodel.RuleOf(err), "round %d: %v", round, err)
		}
		require.NotEmpty(t, winner, "round %d: no transfer succeeded: %v", round, errs)
		e.read(func(tx orgmodel.Tx) error {
			owners, err := tx.ListUsers(ctx, orgmodel.UserFilter{OrgSID: org, Role: orgmodel.RoleOwner})
			require.NoError(t, err)
			require.Len(t, owners, 1, "round %d: exactly one Owner", round)
			require.Equal(t, winner, owners[0].SID, "round %d", round)
			o, err := tx.GetOrg(ctx, org)
			require.NoError(t, err)
			require.Equal(t, winner, o.OwnerSID, "round %d: orgs.owner_sid names the Owner", round)
			admins, err := tx.CountUsers(ctx, orgmodel.UserFilter{OrgSID: org, Role: orgmodel.RoleAdministrator})
			require.NoError(t, err)
			require.Equal(t, 2, admins, "round %d: the old Owner and the loser are Administrators", round)
			return nil
		})
		owner = winner
	}
	e.read(func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{OrgSID: org, Action: "org.owner_transfer"})
		require.NoError(t, err)
		require.Len(t, evs, rounds, "one audit event per transfer that happened, none for the losers")
		return nil
	})
}

// backstopOneOwner reaches the one-Owner constraint directly through Tx,
// without the service's lock: a second Owner is refused with R-ROLE-1, and
// of two transactions each promoting a different user, one fails.
func backstopOneOwner(e *env) {
	t, ctx := e.t, e.ctx
	o, owner := newOrg("own")
	x := newUser(o.SID, "x@own.example", orgmodel.RoleAdministrator)
	y := newUser(o.SID, "y@own.example", orgmodel.RoleAdministrator)
	p, pOwner := newOrg("other") // another organization has its own Owner
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, o, owner))
		require.NoError(t, e.createOrg(tx, p, pOwner), "one Owner per organization, not one in all")
		require.NoError(t, tx.CreateUser(ctx, x))
		return tx.CreateUser(ctx, y)
	})
	second := newUser(o.SID, "second@own.example", orgmodel.RoleOwner)
	requireBackstop(t, e.st.InTx(ctx, func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, second) }), "R-ROLE-1")
	promoted := *x
	promoted.Role = orgmodel.RoleOwner
	requireBackstop(t, e.st.InTx(ctx, func(tx orgmodel.Tx) error { return tx.UpdateUser(ctx, &promoted) }), "R-ROLE-1")

	// Two transfers that skip LockOrg: the constraint alone decides.
	transfer := func(to *orgmodel.User) func() error {
		return func() error {
			return e.st.InTx(ctx, func(tx orgmodel.Tx) error {
				old := *owner
				old.Role = orgmodel.RoleAdministrator
				if err := tx.UpdateUser(ctx, &old); err != nil {
					return err
				}
				nu := *to
				nu.Role = orgmodel.RoleOwner
				return tx.UpdateUser(ctx, &nu)
			})
		}
	}
	errs := race(transfer(x), transfer(y))
	fails := 0
	for _, err := range errs {
		if err != nil {
			fails++
			requireBackstop(t, err, "R-ROLE-1")
		}
	}
	require.Equal(t, 1, fails, "exactly one promotion fails: %v", errs)
	e.read(func(tx orgmodel.Tx) error {
		n, err := tx.CountUsers(ctx, orgmodel.UserFilter{OrgSID: o.SID, Role: orgmodel.RoleOwner})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		return nil
	})
}

// concurrentAutoEnrollment is R-DOM-4 under contention: two organizations
// that both verified a domain set Auto-enrollment (or enforce SSO) at the
// same moment; exactly one wins, the other is refused by R-DOM-4 (on
// PostgreSQL the partial unique index is what catches the lost race).
func concurrentAutoEnrollment(e *env) {
	t, ctx := e.t, e.ctx
	const shared = "shared.example"
	orgs := []orgmodel.OrgSID{e.signup("owner@alpha.example").OrgSID, e.signup("owner@beta.example").OrgSID}
	for _, org := range orgs {
		e.verified(org, shared)
		_, err := e.svc.SetIdP(ctx, e.op, org, orgmodel.IdPConfig{EntityID: "https://idp/" + string(org), SSOURL: "https://idp.example/sso"})
		require.NoError(t, err)
		_, err = e.svc.MarkIdPTested(ctx, e.op, org)
		require.NoError(t, err)
	}
	auto, restricted := orgmodel.SignupAutoEnrollment, orgmodel.SignupRestricted
	on, off := true, false
	configured := 0
	const rounds = 8
	for round := range rounds {
		set := []orgmodel.DomainSettings{{Signup: &auto}, {Signup: &auto}}
		if round%2 == 1 {
			set[1] = orgmodel.DomainSettings{SSOEnforced: &on} // enforcing SSO is exclusive too
		}
		errs := race(
			func() error { _, err := e.svc.ConfigureDomain(ctx, e.op, orgs[0], shared, set[0]); return err },
			func() error { _, err := e.svc.ConfigureDomain(ctx, e.op, orgs[1], shared, set[1]); return err },
		)
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: both organizations won", round)
				winner = i
				continue
			}
			requireRule(t, err, "R-DOM-4")
			require.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
		}
		require.NotEqual(t, -1, winner, "round %d: nobody won: %v", round, errs)
		configured++
		e.read(func(tx orgmodel.Tx) error {
			claims, err := tx.ListDomainClaims(ctx, shared)
			require.NoError(t, err)
			var exclusive []orgmodel.OrgSID
			for _, c := range claims {
				if c.Signup == orgmodel.SignupAutoEnrollment || c.SSOEnforced {
					exclusive = append(exclusive, c.OrgSID)
				}
			}
			require.Equal(t, []orgmodel.OrgSID{orgs[winner]}, exclusive, "round %d: one exclusive organization", round)
			return nil
		})
		// The winner steps back for the next round.
		_, err := e.svc.ConfigureDomain(ctx, e.op, orgs[winner], shared, orgmodel.DomainSettings{Signup: &restricted, SSOEnforced: &off})
		require.NoError(t, err)
		configured++
	}
	e.read(func(tx orgmodel.Tx) error {
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{Action: "domain.configure"})
		require.NoError(t, err)
		require.Len(t, evs, configured, "the refused configurations left no audit event")
		return nil
	})
}

// backstopExclusiveDomain reaches the one-exclusive-organization constraint
// directly through Tx.
func backstopExclusiveDomain(e *env) {
	t, ctx := e.t, e.ctx
	a, aOwner := newOrg("alpha")
	b, bOwner := newOrg("beta")
	c, cOwner := newOrg("gamma")
	da := newDomain(a.SID, "shared.example")
	da.Signup = orgmodel.SignupAutoEnrollment
	db := newDomain(b.SID, "shared.example")
	db.Signup = orgmodel.SignupBlocked
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, a, aOwner))
		require.NoError(t, e.createOrg(tx, b, bOwner))
		require.NoError(t, e.createOrg(tx, c, cOwner))
		require.NoError(t, tx.CreateDomain(ctx, da))
		require.NoError(t, tx.CreateDomain(ctx, db), "a non-exclusive registration of the same domain is allowed")
		return nil
	})
	write := func(fn func(tx orgmodel.Tx) error) error { return e.st.InTx(ctx, fn) }
	sso := *db
	sso.SSOEnforced = true
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.UpdateDomain(ctx, &sso) }), "R-DOM-4")
	autoB := *db
	autoB.Signup = orgmodel.SignupAutoEnrollment
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.UpdateDomain(ctx, &autoB) }), "R-DOM-4")
	dc := newDomain(c.SID, "shared.example")
	dc.SSOEnforced = true
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.CreateDomain(ctx, dc) }), "R-DOM-4")
	dup := newDomain(a.SID, "shared.example")
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.CreateDomain(ctx, dup) }), "R-DOM-1")
	// Stepping back frees the domain for another organization.
	da.Signup, da.UpdatedAt = orgmodel.SignupRestricted, at(time.Minute)
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, tx.UpdateDomain(ctx, da))
		return tx.UpdateDomain(ctx, &sso)
	})
}

// concurrentSignups is R-USER-2 under contention: several sign-ups of one
// email (in different cases) at once; one wins, the others are refused by
// R-USER-2 and leave nothing behind — no organization, account or event.
func concurrentSignups(e *env) {
	t, ctx := e.t, e.ctx
	const rounds, n = 4, 5
	for round := range rounds {
		var fns []func() error
		for i := range n {
			local := fmt.Sprintf("racer%d", round)
			if i%2 == 1 {
				local = fmt.Sprintf("Racer%d", round)
			}
			email := fmt.Sprintf("%s@signup-%d.example", local, round)
			fns = append(fns, func() error {
				_, err := e.svc.SignUp(ctx, e.op, orgmodel.SignUpInput{Email: email, Password: pw, EmailVerified: true})
				return err
			})
		}
		wins := 0
		for _, err := range race(fns...) {
			if err == nil {
				wins++
				continue
			}
			requireRule(t, err, "R-USER-2")
			require.Equal(t, orgmodel.KindConflict, orgmodel.KindOf(err))
		}
		require.Equal(t, 1, wins, "round %d: exactly one sign-up wins", round)
	}
	e.read(func(tx orgmodel.Tx) error {
		n, err := tx.CountUsers(ctx, orgmodel.UserFilter{})
		require.NoError(t, err)
		require.Equal(t, rounds, n, "one user per email")
		n, err = tx.CountAccounts(ctx, orgmodel.AccountFilter{})
		require.NoError(t, err)
		require.Equal(t, rounds, n, "the losers' first accounts were rolled back")
		evs, err := tx.ListAudit(ctx, orgmodel.AuditFilter{Action: "org.create"})
		require.NoError(t, err)
		require.Len(t, evs, rounds, "the losers' organizations were rolled back")
		return nil
	})
}

// backstopOneUserPerEmail reaches the unique email key directly through Tx.
func backstopOneUserPerEmail(e *env) {
	t, ctx := e.t, e.ctx
	a, aOwner := newOrg("alpha")
	b, bOwner := newOrg("beta")
	e.inTx(func(tx orgmodel.Tx) error {
		require.NoError(t, e.createOrg(tx, a, aOwner))
		return e.createOrg(tx, b, bOwner)
	})
	write := func(fn func(tx orgmodel.Tx) error) error { return e.st.InTx(ctx, fn) }
	again := newUser(a.SID, strings.ToUpper(aOwner.Email[:1])+aOwner.Email[1:], orgmodel.RoleStandard)
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, again) }), "R-USER-2")
	elsewhere := newUser(b.SID, strings.ToUpper(aOwner.Email), orgmodel.RoleStandard)
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.CreateUser(ctx, elsewhere) }), "R-USER-2")
	renamed := *bOwner
	renamed.Email = "OWNER@ALPHA.EXAMPLE"
	requireBackstop(t, write(func(tx orgmodel.Tx) error { return tx.UpdateUser(ctx, &renamed) }), "R-USER-2")
	e.read(func(tx orgmodel.Tx) error {
		u, err := tx.GetUser(ctx, bOwner.SID)
		require.NoError(t, err)
		same(t, bOwner, u, "the refused update changed nothing")
		return nil
	})
}
