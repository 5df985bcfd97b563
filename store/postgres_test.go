package store_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/store/storetest"
)

// openPostgres opens a store on a new database of the server that
// ORGD_TEST_POSTGRES names, or skips t when it is unset.
func openPostgres(t *testing.T) orgmodel.Store {
	db, err := store.Open(t.Context(), store.NewPostgresDSN(t), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// TestPostgres runs the conformance suite on PostgreSQL, each case in a
// database of its own, in parallel.
func TestPostgres(t *testing.T) {
	store.PostgresServer(t) // skip the whole suite at once when unset
	storetest.Run(t, openPostgres)
}

// The rule cases of the suite, by rule, so that each rule names its tests.

func TestRule_ROLE_1_ConcurrentTransfersLeaveOneOwner_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-ROLE-1/ConcurrentTransfersLeaveOneOwner")
}

func TestRule_ROLE_1_BackstopOneOwnerPerOrg_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-ROLE-1/BackstopOneOwnerPerOrg")
}

func TestRule_DOM_4_ConcurrentAutoEnrollmentLeavesOneWinner_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-DOM-4/ConcurrentAutoEnrollmentLeavesOneWinner")
}

func TestRule_DOM_4_BackstopOneExclusiveOrgPerDomain_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-DOM-4/BackstopOneExclusiveOrgPerDomain")
}

func TestRule_USER_2_ConcurrentSignupsOneWins_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-USER-2/ConcurrentSignupsOneWins")
}

func TestRule_USER_2_BackstopOneUserPerEmail_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-USER-2/BackstopOneUserPerEmail")
}

func TestRule_MERGE_7_FailedMergeChangesNothing_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-MERGE-7/FailedMergeChangesNothing")
}

func TestRule_AUDIT_1_AuditIsWrittenWithTheChange_Postgres(t *testing.T) {
	t.Parallel()
	storetest.RunCase(t, openPostgres, "R-AUDIT-1/AuditIsWrittenWithTheChange")
}
