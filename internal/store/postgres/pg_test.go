package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
)

// The package's tests use pgtest's database helpers (shared with the
// gateway's and the CLI's tests) under short local names.

// admin returns a pool on the test database; without a reachable server
// it skips the test, and fails it under CI=true.
func admin(t testing.TB) *pgxpool.Pool { return pgtest.Admin(t) }

// baseDSN is the test database's DSN.
func baseDSN() string { return pgtest.BaseDSN() }

// schemaDSN creates a fresh schema, dropped when t ends, and returns a DSN
// whose connections work in it.
func schemaDSN(t testing.TB) string { return pgtest.FreshSchemaDSN(t) }

// withSearchPath sets search_path in a URL or key=value DSN.
func withSearchPath(t testing.TB, dsn, schema string) string {
	return pgtest.WithParam(t, dsn, "search_path", schema)
}

// openTest opens a store in a fresh schema, closed and dropped when t ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), schemaDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
