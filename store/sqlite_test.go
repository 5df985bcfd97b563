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
