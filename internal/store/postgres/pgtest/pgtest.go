// Package pgtest gives tests outside store/postgres a PostgreSQL database
// of their own: a fresh schema per test in the database named by
// $PINPOINT_TEST_POSTGRES_DSN (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Without a
// reachable server the test is skipped, or failed under CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultDSN is the database used when $PINPOINT_TEST_POSTGRES_DSN is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	adminOnce sync.Once
	adminPool *pgxpool.Pool
	adminErr  error
)

// BaseDSN is the test database's DSN, without a schema.
func BaseDSN() string {
	if dsn := os.Getenv("PINPOINT_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Admin returns a small pool on the test database shared by the process's
// tests, skipping (or, under CI=true, failing) t without a server.
func Admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(BaseDSN())
		if err != nil {
			adminErr = err
			return
		}
		cfg.MaxConns = 2
		adminPool, adminErr = pgxpool.NewWithConfig(ctx, cfg)
		if adminErr == nil {
			adminErr = adminPool.Ping(ctx)
		}
	})
	if adminErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at $PINPOINT_TEST_POSTGRES_DSN (default %s) is required under CI: %v", DefaultDSN, adminErr)
		}
		t.Skipf("PostgreSQL not reachable (set $PINPOINT_TEST_POSTGRES_DSN, default %s): %v", DefaultDSN, adminErr)
	}
	return adminPool
}

// FreshSchemaDSN creates a schema, dropped when t ends, and returns a DSN
// whose connections work in it.
func FreshSchemaDSN(t testing.TB) string {
	t.Helper()
	pool := Admin(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "pp_test_" + hex.EncodeToString(b)
	if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return WithParam(t, BaseDSN(), "search_path", schema)
}

// WithParam sets a connection parameter (search_path, application_name,
// …) in a URL or key=value DSN.
func WithParam(t testing.TB, dsn, name, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + name + "=" + value
}
