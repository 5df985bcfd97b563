package orgmodel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// fingerprint summarises everything a command could write.
func (e *env) fingerprint() string {
	e.t.Helper()
	var b strings.Builder
	evs, err := e.svc.ListAudit(e.ctx, e.op, orgmodel.AuditFilter{Limit: 1000})
	require.NoError(e.t, err)
	mails, err := e.svc.ListMail(e.ctx, e.op, orgmodel.MailFilter{Limit: 1000})
	require.NoError(e.t, err)
	b.WriteString(strings.Repeat("e", len(evs)) + "|" + strings.Repeat("m", len(mails)))
	err = e.db.Read(e.ctx, func(tx orgmodel.Tx) error {
		us, err := tx.ListUsers(e.ctx, orgmodel.UserFilter{})
		if err != nil {
			return err
		}
		for _, u := range us {
			b.WriteString("|" + string(u.SID) + string(u.Role) + string(u.Status) + u.Email)
		}
		as, err := tx.ListAccounts(e.ctx, orgmodel.AccountFilter{})
		for _, a := range as {
			b.WriteString("|" + string(a.SID) + string(a.Status) + a.FriendlyName + string(a.OrgSID))
		}
		return err
	})
	require.NoError(e.t, err)
	return b.String()
}

// Every bad input is refused with an error that names what was wrong (and
// the rule when one refused) and leaves the database as it was.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	e.verified(r.OrgSID, "acme.test")
	std := e.standard(r, "std@acme.test")
	other := e.signup("boss@other.test")
	owner := as(r.UserSID)

	tests := []struct {
		name  string
		setup func()
		call  func() error
		rule  string
		field string // a word the message must contain
	}{
		{"malformed org SID", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, "ORxyz", "b.test"); return err }, "", "org"},
		{"unknown org SID", nil, func() error {
			_, err := e.svc.AddDomain(e.ctx, owner, orgmodel.OrgSID(orgmodel.NewSID("OR")), "b.test")
			return err
		}, "", "not found"},
		{"malformed account SID", nil, func() error { _, err := e.svc.GetAccount(e.ctx, owner, "AC123"); return err }, "", "account"},
		{"empty account name", nil, func() error { _, err := e.svc.CreateAccount(e.ctx, owner, r.OrgSID, "", ""); return err }, "", "name"},
		{"oversized account name", nil, func() error {
			_, err := e.svc.CreateAccount(e.ctx, owner, r.OrgSID, strings.Repeat("n", 256), "")
			return err
		}, "", "name"},
		{"not an email", nil, func() error {
			_, err := e.svc.InviteUser(e.ctx, owner, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "bob at acme.test"})
			return err
		}, "", "email"},
		{"domain with scheme", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "https://b.test"); return err }, "R-DOM-2", "scheme"},
		{"domain with www.", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "www.b.test"); return err }, "R-DOM-2", "www."},
		{"domain with trailing dot", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "b.test."); return err }, "R-DOM-2", "dot"},
		{"domain with spaces", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "b .test"); return err }, "R-DOM-2", "spaces"},
		{"IDN domain", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "bücher.test"); return err }, "R-DOM-2", "xn--"},
		{"common mail domain", nil, func() error { _, err := e.svc.AddDomain(e.ctx, owner, r.OrgSID, "gmail.com"); return err }, "R-DOM-2", "common mail"},
		{"domain already claimed exclusively", func() {
			e.ensureVerified(other.OrgSID, "excl.test")
			e.setSignup(other.OrgSID, "excl.test", orgmodel.SignupAutoEnrollment)
			e.ensureVerified(r.OrgSID, "excl.test")
		}, func() error {
			s := orgmodel.SignupAutoEnrollment
			_, err := e.svc.ConfigureDomain(e.ctx, owner, r.OrgSID, "excl.test", orgmodel.DomainSettings{Signup: &s})
			return err
		}, "R-DOM-4", "excl.test"},
		{"user already in another organization", func() { e.ensureVerified(r.OrgSID, "other.test") }, func() error {
			_, err := e.svc.InviteUser(e.ctx, owner, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "boss@other.test"})
			return err
		}, "R-USER-2", "another organization"},
		{"role that may not act", nil, func() error {
			_, err := e.svc.InviteUser(e.ctx, as(std), orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "z@acme.test"})
			return err
		}, "R-ROLE-3", "Administrator"},
		{"unknown role", nil, func() error {
			_, err := e.svc.InviteUser(e.ctx, owner, orgmodel.InviteInput{OrgSID: r.OrgSID, Email: "z@acme.test", Role: "god"})
			return err
		}, "", "role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			before := e.fingerprint()
			err := tc.call()
			require.Error(t, err)
			assert.Equal(t, tc.rule, orgmodel.RuleOf(err), "err = %v", err)
			assert.Contains(t, err.Error(), tc.field)
			assert.NotEqual(t, orgmodel.KindInternal, orgmodel.KindOf(err), "a client's mistake is never internal: %v", err)
			assert.Equal(t, before, e.fingerprint(), "the refusal changed the database")
		})
	}
}
