package store_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/store/storetest"
)

// openSQLite opens a store on a new SQLite file.
func openSQLite(t *testing.T) orgmodel.Store {
	db, err := store.Open(t.Context(), store.NewSQLiteDSN(t), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// TestSQLite runs the conformance suite on SQLite.
func TestSQLite(t *testing.T) { storetest.Run(t, openSQLite) }

// The rule cases of the suite, by rule, so that each rule names its tests.

func TestRule_ROLE_1_ConcurrentTransfersLeaveOneOwner_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-ROLE-1/ConcurrentTransfersLeaveOneOwner")
}

func TestRule_ROLE_1_BackstopOneOwnerPerOrg_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-ROLE-1/BackstopOneOwnerPerOrg")
}

func TestRule_DOM_4_ConcurrentAutoEnrollmentLeavesOneWinner_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-DOM-4/ConcurrentAutoEnrollmentLeavesOneWinner")
}

func TestRule_DOM_4_BackstopOneExclusiveOrgPerDomain_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-DOM-4/BackstopOneExclusiveOrgPerDomain")
}

func TestRule_USER_2_ConcurrentSignupsOneWins_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-USER-2/ConcurrentSignupsOneWins")
}

func TestRule_USER_2_BackstopOneUserPerEmail_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-USER-2/BackstopOneUserPerEmail")
}

func TestRule_MERGE_7_FailedMergeChangesNothing_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-MERGE-7/FailedMergeChangesNothing")
}

func TestRule_AUDIT_1_AuditIsWrittenWithTheChange_SQLite(t *testing.T) {
	storetest.RunCase(t, openSQLite, "R-AUDIT-1/AuditIsWrittenWithTheChange")
}
