package store

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTableOrderFollowsForeignKeys: the order migrate-data copies in puts
// every table after the tables it references, the same set of tables on
// both dialects.
func TestTableOrderFollowsForeignKeys(t *testing.T) {
	orders := map[string][]string{}
	for dialect, dsn := range map[string]func(testing.TB) string{"sqlite": NewSQLiteDSN, "postgres": NewPostgresDSN} {
		t.Run(dialect, func(t *testing.T) {
			db, err := Open(t.Context(), dsn(t), slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			defer db.Close()
			name := db.Dialect()
			require.Equal(t, dialect, name)
			order, err := tableOrder(t.Context(), db.r, name)
			require.NoError(t, err)
			require.Contains(t, order, "orgs")
			require.NotContains(t, order, gooseTable)
			refsQ := `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
			if name == "postgres" {
				refsQ = `SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'`
			}
			rows, err := db.r.QueryContext(t.Context(), refsQ)
			require.NoError(t, err)
			defer rows.Close()
			n := 0
			for rows.Next() {
				var from, to string
				require.NoError(t, rows.Scan(&from, &to))
				if from != to {
					require.Lessf(t, slices.Index(order, to), slices.Index(order, from), "%s references %s", from, to)
					n++
				}
			}
			require.NoError(t, rows.Err())
			require.Greater(t, n, 10, "the schema's foreign keys were read")
			orders[name] = slices.Sorted(slices.Values(order))
		})
	}
	if pg, ok := orders["postgres"]; ok {
		require.Equal(t, orders["sqlite"], pg, "the same tables on both dialects")
	}
}
