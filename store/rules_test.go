package store_test

import (
	"testing"

	"github.com/orgd/orgd/store/storetest"
)

// The rule cases of the suite, one test per case named after its rule,
// so that each rule names its tests. Each runs on SQLite and, when
// ORGD_TEST_POSTGRES is set, on PostgreSQL.

func ruleCase(t *testing.T, name string) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		storetest.RunCase(t, openSQLite, name)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		storetest.RunCase(t, openPostgres, name)
	})
}

func TestRule_ROLE_1_ConcurrentTransfersLeaveOneOwner(t *testing.T) {
	ruleCase(t, "R-ROLE-1/ConcurrentTransfersLeaveOneOwner")
}

func TestRule_ROLE_1_BackstopOneOwnerPerOrg(t *testing.T) {
	ruleCase(t, "R-ROLE-1/BackstopOneOwnerPerOrg")
}

func TestRule_DOM_4_ConcurrentAutoEnrollmentLeavesOneWinner(t *testing.T) {
	ruleCase(t, "R-DOM-4/ConcurrentAutoEnrollmentLeavesOneWinner")
}

func TestRule_DOM_4_BackstopOneExclusiveOrgPerDomain(t *testing.T) {
	ruleCase(t, "R-DOM-4/BackstopOneExclusiveOrgPerDomain")
}

func TestRule_USER_2_ConcurrentSignupsOneWins(t *testing.T) {
	ruleCase(t, "R-USER-2/ConcurrentSignupsOneWins")
}

func TestRule_USER_2_BackstopOneUserPerEmail(t *testing.T) {
	ruleCase(t, "R-USER-2/BackstopOneUserPerEmail")
}

func TestRule_MERGE_7_FailedMergeChangesNothing(t *testing.T) {
	ruleCase(t, "R-MERGE-7/FailedMergeChangesNothing")
}

func TestRule_AUDIT_1_AuditIsWrittenWithTheChange(t *testing.T) {
	ruleCase(t, "R-AUDIT-1/AuditIsWrittenWithTheChange")
}
