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
