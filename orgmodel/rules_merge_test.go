package orgmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
)

// mergeable builds a prime with acme.test verified and a candidate whose
// Owner is cand@acme.test, with a Standard user, an account and a subaccount.
type mergeable struct {
	prime, cand *orgmodel.SignUpResult
	candStd     orgmodel.UserSID
	candSub     orgmodel.AccountSID
}

func (e *env) mergeable() mergeable {
	e.t.Helper()
	// The candidate's Owner signed up before the prime verified acme.test.
	cand := e.signup("cand@acme.test")
	prime := e.signup("owner@acme.test")
	e.verified(prime.OrgSID, "acme.test")
	e.verified(cand.OrgSID, "cand.test")
	std := e.member(cand.OrgSID, "dev@cand.test", orgmodel.RoleStandard)
	sub, err := e.svc.CreateSubaccount(e.ctx, as(cand.UserSID), cand.AccountSID, "Sub")
	require.NoError(e.t, err)
	require.NoError(e.t, e.svc.RemoveDomain(e.ctx, e.op, cand.OrgSID, "cand.test"))
	return mergeable{prime, cand, std, sub.SID}
}

func TestRule_MERGE_1_ThePrimeAbsorbsTheCandidate(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	_, err := e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.prime.OrgSID)
	requireRule(t, err, "R-MERGE-1")
	// Only the prime's Owner or Administrators merge; the candidate's cannot pull.
	_, err = e.svc.MergeOrgs(e.ctx, as(m.cand.UserSID), m.prime.OrgSID, m.cand.OrgSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	res, err := e.svc.MergeOrgs(e.ctx, as(m.prime.UserSID), m.prime.OrgSID, m.cand.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, m.prime.OrgSID, res.Prime)
	assert.Equal(t, 1, res.AccountsMoved)
	assert.Equal(t, 2, res.UsersMoved)
}

func TestRule_MERGE_2_PrimeNeedsAVerifiedDomain(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	require.NoError(t, e.svc.RemoveDomain(e.ctx, e.op, m.prime.OrgSID, "acme.test"))
	_, err := e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	requireRule(t, err, "R-MERGE-2")
	// Registered but unverified does not count.
	_, err = e.svc.AddDomain(e.ctx, e.op, m.prime.OrgSID, "acme.test")
	require.NoError(t, err)
	_, err = e.svc.PreflightMerge(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	requireRule(t, err, "R-MERGE-2")
}

func TestRule_MERGE_3_CandidateOwnerOnAPrimeDomain(t *testing.T) {
	e := newEnv(t)
	prime := e.signup("owner@acme.test")
	e.verified(prime.OrgSID, "acme.test")
	cand := e.signup("cand@elsewhere.test")
	_, err := e.svc.MergeOrgs(e.ctx, e.op, prime.OrgSID, cand.OrgSID)
	requireRule(t, err, "R-MERGE-3")
	// Such an organization is none of the prime's business: it is answered
	// like one that does not exist, and nothing of it shows.
	_, err = e.svc.PreflightMerge(e.ctx, as(prime.UserSID), prime.OrgSID, cand.OrgSID)
	requireRule(t, err, "R-MERGE-3")
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
	assert.NotContains(t, err.Error(), "elsewhere.test")
	ghost := orgmodel.OrgSID(orgmodel.NewSID("OR"))
	_, errGhost := e.svc.PreflightMerge(e.ctx, as(prime.UserSID), prime.OrgSID, ghost)
	assert.Equal(t, strings.ReplaceAll(err.Error(), string(cand.OrgSID), string(ghost)), errGhost.Error())
	// Once its Owner is on a verified domain of the prime, the preflight shows every rule.
	e.verified(prime.OrgSID, "elsewhere.test")
	pf, err := e.svc.PreflightMerge(e.ctx, as(prime.UserSID), prime.OrgSID, cand.OrgSID)
	require.NoError(t, err)
	byRule := map[string]bool{}
	for _, c := range pf.Checks {
		byRule[c.Rule] = c.OK
	}
	assert.Equal(t, map[string]bool{"R-MERGE-2": true, "R-MERGE-3": true, "R-MERGE-4": true, "R-HIER-3": true}, byRule)
	assert.True(t, pf.OK)
}

func TestRule_MERGE_4_CandidateHasNoVerifiedDomains(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	e.verified(m.cand.OrgSID, "cand.test")
	_, err := e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	requireRule(t, err, "R-MERGE-4")
	// Removing the verification first lets it through; unverified
	// registrations are dropped by the merge.
	require.NoError(t, e.svc.RemoveDomain(e.ctx, e.op, m.cand.OrgSID, "cand.test"))
	_, err = e.svc.AddDomain(e.ctx, e.op, m.cand.OrgSID, "cand.test")
	require.NoError(t, err)
	_, err = e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	require.NoError(t, err)
}

func TestRule_MERGE_5_EverythingMovesAndTheCandidateIsGone(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	before, err := e.svc.GetAccount(e.ctx, e.op, m.cand.AccountSID)
	require.NoError(t, err)
	tok, err := e.svc.CreateSCIMToken(e.ctx, e.op, m.cand.OrgSID, "")
	require.NoError(t, err)

	_, err = e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	require.NoError(t, err)

	_, err = e.svc.ShowOrg(e.ctx, e.op, m.cand.OrgSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err), "the candidate no longer exists")
	owner, err := e.svc.GetUser(e.ctx, e.op, m.prime.OrgSID, m.cand.UserSID)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleAdministrator, owner.Role)
	std, err := e.svc.GetUser(e.ctx, e.op, m.prime.OrgSID, m.candStd)
	require.NoError(t, err)
	assert.Equal(t, orgmodel.RoleStandard, std.Role)
	rel := relations(t, e, e.op, m.prime.OrgSID)
	assert.Equal(t, orgmodel.RelationManaged, rel[m.cand.AccountSID])
	assert.Equal(t, orgmodel.RelationSubaccount, rel[m.candSub])
	// Billing and account behaviour unchanged: same account, same owner,
	// same type, status and token.
	after, err := e.svc.GetAccount(e.ctx, e.op, m.cand.AccountSID)
	require.NoError(t, err)
	assert.Equal(t, before.OwnerSID, after.OwnerSID)
	assert.Equal(t, before.Type, after.Type)
	assert.Equal(t, before.Status, after.Status)
	assert.Equal(t, before.BillingAccount(), after.BillingAccount())
	_, _, err = e.svc.AuthenticateAccount(e.ctx, string(m.cand.AccountSID), m.cand.AuthToken, "")
	require.NoError(t, err)
	// The candidate's own credentials are gone with it.
	_, err = e.svc.AuthenticateSCIM(e.ctx, tok.Token, "")
	assert.Equal(t, orgmodel.KindUnauthenticated, orgmodel.KindOf(err))
	// Exactly one Owner remains.
	assert.Len(t, e.owners(m.prime.OrgSID), 1)
}

func TestRule_MERGE_6_PrimeSSOAppliesToMergedUsers(t *testing.T) {
	e := newEnv(t)
	cand := e.signup("cand@acme.test")
	prime := e.signup("owner@acme.test")
	e.verified(prime.OrgSID, "acme.test")
	e.idpTested(prime.OrgSID)
	e.enforce(prime.OrgSID, "acme.test")
	e.verified(cand.OrgSID, "acme.test")
	dev := e.member(cand.OrgSID, "dev@acme.test", orgmodel.RoleStandard)
	require.NoError(t, e.svc.RemoveDomain(e.ctx, e.op, cand.OrgSID, "acme.test"))
	tok, _, err := e.svc.StartSession(e.ctx, as(dev), dev, "password")
	require.NoError(t, err)
	_, err = e.svc.CheckPasswordLogin(e.ctx, "dev@acme.test", pw)
	require.NoError(t, err)

	res, err := e.svc.MergeOrgs(e.ctx, e.op, prime.OrgSID, cand.OrgSID)
	require.NoError(t, err)
	assert.Equal(t, 1, res.SessionsEnded)
	_, _, err = e.svc.Session(e.ctx, tok)
	require.Error(t, err)
	_, err = e.svc.CheckPasswordLogin(e.ctx, "dev@acme.test", pw)
	requireRule(t, err, "R-DOM-5")
	_, err = e.svc.CheckPasswordLogin(e.ctx, "cand@acme.test", pw)
	requireRule(t, err, "R-DOM-5")
	p, err := e.svc.LoginPolicyFor(e.ctx, "dev@acme.test")
	require.NoError(t, err)
	assert.Equal(t, orgmodel.LoginPolicy{SSO: true, OrgSID: prime.OrgSID, IdPOrgSID: prime.OrgSID}, p)
}

// faultyStore fails the Nth call of the named Tx method, after the earlier
// writes of the same transaction went through.
type faultyStore struct {
	orgmodel.Store
	failOn string
}

var errInjected = errors.New("injected failure")

func (f *faultyStore) InTx(ctx context.Context, fn func(orgmodel.Tx) error) error {
	return f.Store.InTx(ctx, func(tx orgmodel.Tx) error { return fn(&faultyTx{tx, f.failOn}) })
}

type faultyTx struct {
	orgmodel.Tx
	failOn string
}

func (t *faultyTx) MoveAccounts(ctx context.Context, from, to orgmodel.OrgSID, now time.Time) (int, error) {
	if t.failOn == "MoveAccounts" {
		return 0, errInjected
	}
	return t.Tx.MoveAccounts(ctx, from, to, now)
}

func (t *faultyTx) DeleteOrg(ctx context.Context, sid orgmodel.OrgSID) error {
	if t.failOn == "DeleteOrg" {
		return errInjected
	}
	return t.Tx.DeleteOrg(ctx, sid)
}

func (t *faultyTx) AppendAudit(ctx context.Context, ev *orgmodel.AuditEvent) error {
	if t.failOn == "AppendAudit" && ev.Action == "org.merge" {
		return errInjected
	}
	return t.Tx.AppendAudit(ctx, ev)
}

// orgState is everything a merge could change about an organization.
func orgState(t *testing.T, e *env, org orgmodel.OrgSID) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	info, err := e.svc.ShowOrg(e.ctx, e.op, org)
	require.NoError(t, err)
	users, err := e.svc.ListUsers(e.ctx, e.op, org, orgmodel.UserFilter{})
	require.NoError(t, err)
	accts, err := e.svc.ListAccounts(e.ctx, e.op, org)
	require.NoError(t, err)
	audit, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{OrgSID: org, Limit: 1000})
	require.NoError(t, err)
	tokens, err := e.svc.ListSCIMTokens(e.ctx, e.op, org)
	require.NoError(t, err)
	for _, v := range []any{info, users, accts, audit, tokens} {
		require.NoError(t, enc.Encode(v))
	}
	return b.String()
}

func TestRule_MERGE_7_AllOrNothing(t *testing.T) {
	for _, failOn := range []string{"MoveAccounts", "DeleteOrg", "AppendAudit"} {
		t.Run(failOn, func(t *testing.T) {
			e := newEnv(t)
			m := e.mergeable()
			_, err := e.svc.CreateSCIMToken(e.ctx, e.op, m.cand.OrgSID, "")
			require.NoError(t, err)
			primeBefore, candBefore := orgState(t, e, m.prime.OrgSID), orgState(t, e, m.cand.OrgSID)

			faulty := orgmodel.NewService(&faultyStore{e.db, failOn}, orgmodel.Config{Hasher: password.Fast, Resolver: e.dns, Now: e.clock.Now})
			_, err = faulty.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
			require.ErrorIs(t, err, errInjected)

			assert.Equal(t, primeBefore, orgState(t, e, m.prime.OrgSID))
			assert.Equal(t, candBefore, orgState(t, e, m.cand.OrgSID))
			// And the real merge still works afterwards.
			_, err = e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
			require.NoError(t, err)
		})
	}
}

func TestRule_ORG_1_OrganizationsAreRemovedOnlyByMerging(t *testing.T) {
	// The service offers no way to close or delete an organization.
	svc := reflect.TypeOf(&orgmodel.Service{})
	for i := range svc.NumMethod() {
		name := svc.Method(i).Name
		if strings.Contains(name, "Org") {
			for _, verb := range []string{"Delete", "Close", "Remove", "Destroy"} {
				assert.False(t, strings.HasPrefix(name, verb), "Service.%s would remove an organization other than by merge", name)
			}
		}
	}
	// The store refuses to delete an organization that still holds users or accounts.
	e := newEnv(t)
	r := e.signup("solo@solo.test")
	err := e.db.InTx(e.ctx, func(tx orgmodel.Tx) error { return tx.DeleteOrg(e.ctx, r.OrgSID) })
	require.Error(t, err)
	_, err = e.svc.ShowOrg(e.ctx, e.op, r.OrgSID)
	require.NoError(t, err)
	// Merging is the way.
	m := e.mergeable()
	_, err = e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	require.NoError(t, err)
	_, err = e.svc.ShowOrg(e.ctx, e.op, m.cand.OrgSID)
	assert.Equal(t, orgmodel.KindNotFound, orgmodel.KindOf(err))
}

func TestMergeRespectsTheAccountLimit(t *testing.T) {
	e := newEnv(t)
	m := e.mergeable()
	_, err := e.svc.SetAccountLimit(e.ctx, e.op, m.prime.OrgSID, 1)
	require.NoError(t, err)
	_, err = e.svc.MergeOrgs(e.ctx, e.op, m.prime.OrgSID, m.cand.OrgSID)
	requireRule(t, err, "R-HIER-3")
}
