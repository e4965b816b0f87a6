// Package postgres is Pinpoint's shared store for cluster mode: config
// revisions, the call log, admin tokens, identities, quota counters and
// idempotency keys in one PostgreSQL database, so every gateway of a cluster
// sees the same state. It implements store.Store with the semantics of the
// embedded store/sqlite, checked by the same conformance suite.
//
// Open runs the embedded schema migrations (goose) before returning. The
// tables live in the schema the connection's search_path selects (set it in
// the DSN: postgres://host/db?search_path=pinpoint), so one database can
// hold several independent stores.
//
// The call log is partitioned by UTC day: InsertCalls writes each batch with
// COPY, creating the partitions it needs (and the next day's, ahead), and
// PruneCalls drops whole days past the retention instead of deleting their
// rows one by one.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var (
	_ store.Store  = (*Store)(nil)
	_ store.Pinger = (*Store)(nil)
)

// ErrInvalidTokenHash is returned by CreateAdminToken and CreateAPIKey when
// the hash is not 64 lowercase hex characters. It guards against a raw
// token being stored by mistake; the offending value is never echoed.
var ErrInvalidTokenHash = errors.New("token hash must be a lowercase hex SHA-256")

// Store is a store.Store in a PostgreSQL database. It is safe for concurrent
// use, also by several processes sharing the database; create it with Open
// and release it with Close.
type Store struct {
	pool  *pgxpool.Pool
	parts *partitions
	// schema is the store's schema, which names its change notifications.
	schema string
}

// Open connects to the database named by dsn (a PostgreSQL URL or key=value
// connection string, for example
// "postgres://pinpoint@db:5432/pinpoint?sslmode=verify-full") and brings its
// schema up to date. It refuses a database migrated by a newer Pinpoint
// (ErrSchemaTooNew) rather than risk damaging it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, errors.New("postgres: invalid connection string")
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed pool configuration, for callers that set
// pool sizes, TLS or runtime parameters in code. cfg is not modified; the
// store adds hooks to a copy so that, after an outage, connections it may
// have killed are checked before use (see lossWatch).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	cfg = cfg.Copy()
	new(lossWatch).install(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if _, err := migratePool(ctx, pool, "up"); err != nil {
		pool.Close()
		return nil, err
	}
	schema, err := currentSchema(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{pool: pool, parts: newPartitions(schema), schema: schema}, nil
}

// Pool is the store's connection pool, for health checks and metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping implements store.Pinger: it checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.pool.Ping(ctx))
}

// Close closes the connection pool, waiting for connections in use to be
// returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// ts encodes t for storage: microseconds (PostgreSQL's precision), NULL for
// the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS decodes a stored time as UTC; NULL (nil) is the zero time.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// micro rounds t down to what the store keeps (UTC microseconds), so values
// the store returns compare equal to the stored ones.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// now is the current time as the store keeps it.
func now() time.Time { return micro(time.Now()) }

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// wrap adds context to unexpected errors and passes the store's sentinel
// errors through unchanged (callers compare with errors.Is either way).
func wrap(op string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
