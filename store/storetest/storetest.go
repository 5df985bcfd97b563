// Package storetest is the conformance suite of orgmodel.Store. Every
// implementation runs it: package store runs it on SQLite in every test run
// and on PostgreSQL when ORGD_TEST_POSTGRES is set.
//
// Each case gets a fresh store. Most cases drive the store through
// orgmodel.Service, as the server does; the store-level contracts (round
// trips, misses, paging, backstop constraints, claims, transactions) go
// through Store.InTx and Store.Read directly. Cases named after a rule
// ("R-ROLE-1/…") check the part of that rule the store carries.
package storetest

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
)

// Opener returns a fresh, empty store for one test; it registers its own
// clean-up with t.
type Opener = func(t *testing.T) orgmodel.Store

type suiteCase struct {
	name string
	run  func(e *env)
}

// cases is the suite, in the order Run runs it.
var cases = []suiteCase{
	{"RoundTrip/OrgsUsersAccounts", roundTripOrgsUsersAccounts},
	{"RoundTrip/LinksAndGrants", roundTripLinksGrants},
	{"RoundTrip/DomainsAndInvitations", roundTripDomainsInvitations},
	{"RoundTrip/Credentials", roundTripCredentials},
	{"RoundTrip/SessionsResetsIdP", roundTripSessionsResetsIdP},
	{"RoundTrip/AuditAndOutbox", roundTripAuditOutbox},
	{"RoundTrip/TimeZones", roundTripTimeZones},
	{"RoundTrip/SetupLinks", roundTripSetupLinks},
	{"Misses/NotFound", missesNotFound},
	{"Lists/UsersFiltersAndPaging", listUsers},
	{"Lists/AccountsFiltersAndPaging", listAccounts},
	{"Lists/GrantsFiltersAndPaging", listGrants},
	{"Lists/AuditFiltersNewestFirst", listAudit},
	{"Lists/GroupMembersAndCounts", groupViews},
	{"Isolation/OrganizationsSeeOnlyThemselves", isolation},
	{"Isolation/MergeCandidateOfAnotherOrgIsHidden", mergeCandidateHidden},
	{"R-ROLE-1/ConcurrentTransfersLeaveOneOwner", concurrentTransfers},
	{"R-ROLE-1/BackstopOneOwnerPerOrg", backstopOneOwner},
	{"R-DOM-4/ConcurrentAutoEnrollmentLeavesOneWinner", concurrentAutoEnrollment},
	{"R-DOM-4/BackstopOneExclusiveOrgPerDomain", backstopExclusiveDomain},
	{"R-USER-2/ConcurrentSignupsOneWins", concurrentSignups},
	{"R-USER-2/BackstopOneUserPerEmail", backstopOneUserPerEmail},
	{"R-MERGE-7/FailedMergeChangesNothing", failedMergeChangesNothing},
	{"R-AUDIT-1/AuditIsWrittenWithTheChange", auditWithTheChange},
	{"R-AUDIT-1/ConcurrentWritersKeepTheHashChain", auditChainConcurrent},
	{"Backstops/ForeignKeysAndDuplicates", backstopForeignKeys},
	{"Claims/OutboxClaimsAreDisjoint", claimMail},
	{"Claims/DomainChecksAreDisjoint", claimDomainChecks},
	{"Claims/ExpiredImportsAreDisjoint", claimExpiredLinks},
	{"Tx/RollbackOnError", txRollback},
	{"Tx/ReadRefusesWrites", readRefusesWrites},
}

// Run runs every case of the suite, in parallel, each on a store from open.
func Run(t *testing.T, open Opener) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(newEnv(t, open(t)))
		})
	}
}

// RunCase runs the case called name (one of Names) on a store from open.
func RunCase(t *testing.T, open Opener, name string) {
	t.Helper()
	for _, c := range cases {
		if c.name == name {
			c.run(newEnv(t, open(t)))
			return
		}
	}
	t.Fatalf("storetest: no case %q (cases: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the cases of the suite.
func Names() []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.name
	}
	return out
}

// zone is a TXT resolver answering from a map; names it does not hold are
// NXDOMAIN, as a DNS server would answer.
type zone struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (z *zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	v, ok := z.txt[strings.ToLower(name)]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return v, nil
}

func (z *zone) set(name string, values ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[strings.ToLower(name)] = values
}

// clock is the service's settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one case's store, service and helpers.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    orgmodel.Store
	svc   *orgmodel.Service
	dns   *zone
	clock *clock
	op    orgmodel.Actor
}

func newEnv(t *testing.T, st orgmodel.Store) *env {
	e := &env{
		t: t, ctx: t.Context(), st: st, op: orgmodel.OperatorActor("cli"),
		dns:   &zone{txt: map[string][]string{}},
		clock: &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)},
	}
	e.svc = e.serviceOn(st)
	return e
}

// serviceOn returns a service over st with the case's resolver and clock.
func (e *env) serviceOn(st orgmodel.Store) *orgmodel.Service {
	return orgmodel.NewService(st, orgmodel.Config{
		BaseURL: "https://orgd.test", Hasher: password.Fast, Resolver: e.dns, Now: e.clock.Now,
	})
}

// pw is a password every sign-up in the suite uses.
const pw = "Corr3ct-Horse-Battery"

// as is a person acting from the console.
func as(u orgmodel.UserSID) orgmodel.Actor { return orgmodel.Actor{UserSID: u, Via: "console"} }

// signup signs email up, creating its organization.
func (e *env) signup(email string) *orgmodel.SignUpResult {
	e.t.Helper()
	r, err := e.svc.SignUp(e.ctx, e.op, orgmodel.SignUpInput{Email: email, Password: pw, EmailVerified: true})
	require.NoError(e.t, err)
	return r
}

// verified registers domain for org and verifies it through DNS.
func (e *env) verified(org orgmodel.OrgSID, domain string) {
	e.t.Helper()
	d, err := e.svc.AddDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
	e.dns.set(d.TXTName, d.TXTValue)
	_, err = e.svc.VerifyDomain(e.ctx, e.op, org, domain)
	require.NoError(e.t, err)
}

// member invites email into org with role and accepts the invitation.
func (e *env) member(org orgmodel.OrgSID, email string, role orgmodel.Role) orgmodel.UserSID {
	e.t.Helper()
	inv, err := e.svc.InviteUser(e.ctx, e.op, orgmodel.InviteInput{OrgSID: org, Email: email, Role: string(role)})
	require.NoError(e.t, err)
	r, err := e.svc.AcceptInvitation(e.ctx, orgmodel.Actor{Via: "console"}, inv.Token, pw)
	require.NoError(e.t, err)
	return r.UserSID
}

// inTx runs fn in a write transaction that must succeed.
func (e *env) inTx(fn func(tx orgmodel.Tx) error) {
	e.t.Helper()
	require.NoError(e.t, e.st.InTx(e.ctx, fn))
}

// read runs fn in a read transaction that must succeed.
func (e *env) read(fn func(tx orgmodel.Tx) error) {
	e.t.Helper()
	require.NoError(e.t, e.st.Read(e.ctx, fn))
}

// requireRule asserts that err is a refusal by rule.
func requireRule(t *testing.T, err error, rule string) {
	t.Helper()
	require.Error(t, err, "want a refusal by %s", rule)
	require.Equal(t, rule, orgmodel.RuleOf(err), "err = %v", err)
}

// requireBackstop asserts that err is what a backstop constraint returns:
// the rule it backs, which is also an ErrConflict.
func requireBackstop(t *testing.T, err error, rule string) {
	t.Helper()
	requireRule(t, err, rule)
	require.ErrorIs(t, err, orgmodel.ErrConflict)
}

// requireNotFound asserts that err is a store miss.
func requireNotFound(t *testing.T, err error, what string) {
	t.Helper()
	require.Error(t, err, "%s: want not found", what)
	require.ErrorIs(t, err, orgmodel.ErrNotFound, "%s", what)
}

// base is a time with milliseconds, in a zone with daylight saving, so
// that round trips show both precision and the instant are kept.
var base = time.Date(2026, 3, 8, 1, 59, 58, 123_000_000, mustZone("America/New_York"))

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		// Without tzdata the instant still matters; a fixed zone keeps the test meaningful.
		return time.FixedZone("EST", -5*3600)
	}
	return l
}

// at is base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

func ptr[T any](v T) *T { return &v }

// inUTC returns a copy of *v with every time.Time and *time.Time field (in
// embedded structs too) in UTC: the form the store gives back.
func inUTC[T any](v *T) *T {
	c := *v
	utcFields(reflect.ValueOf(&c).Elem())
	return &c
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	timePtrType = reflect.TypeFor[*time.Time]()
)

func utcFields(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(f.Interface().(time.Time).UTC()))
		case f.Type() == timePtrType:
			if !f.IsNil() {
				u := f.Interface().(*time.Time).UTC()
				f.Set(reflect.ValueOf(&u))
			}
		case f.Kind() == reflect.Struct:
			utcFields(f)
		}
	}
}

// same asserts that got is want as the store gives it back (times in UTC).
func same[T any](t *testing.T, want, got *T, msg ...any) {
	t.Helper()
	require.NotNil(t, got, msg...)
	require.Equal(t, inUTC(want), got, msg...)
}

// errInjected is the failure the faulty stores inject.
var errInjected = errors.New("storetest: injected failure")
