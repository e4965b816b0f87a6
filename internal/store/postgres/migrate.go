package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Pinpoint than this binary. Upgrade the binary, or restore a backup taken
// before the newer version ran.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary supports")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationState is one migration's state in a database.
type MigrationState struct {
	// Version is the migration's number (0001_init.sql: 1).
	Version int64 `json:"version"`
	// Name is the migration's file name.
	Name string `json:"name"`
	// Applied says whether the database has it; AppliedAt is when.
	Applied   bool      `json:"applied"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Migrate runs a migration command against the database named by dsn, for
// `pinpoint migrate`: "up" applies every pending migration, "status" changes
// nothing. Both return the state of every migration this binary knows,
// oldest first. Open runs "up" itself.
func Migrate(ctx context.Context, dsn, command string) ([]MigrationState, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: invalid connection string")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer pool.Close()
	return migratePool(ctx, pool, command)
}

// LatestSchemaVersion is the schema version this binary migrates databases to.
func LatestSchemaVersion() int64 {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		panic("postgres: no embedded migrations")
	}
	return int64(len(names))
}

// SchemaVersion is the highest migration applied to the database; after a
// successful Open it equals LatestSchemaVersion.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, done, err := newProvider(ctx, s.pool)
	if err != nil {
		return 0, err
	}
	defer done()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

func migratePool(ctx context.Context, pool *pgxpool.Pool, command string) ([]MigrationState, error) {
	if command != "up" && command != "status" {
		return nil, fmt.Errorf("postgres: migrate: unknown command %q (want up or status)", command)
	}
	p, done, err := newProvider(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer done()
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if cur > LatestSchemaVersion() {
		return nil, fmt.Errorf("postgres: %w: database is at version %d, this binary knows up to %d",
			ErrSchemaTooNew, cur, LatestSchemaVersion())
	}
	if command == "up" {
		if _, err := p.Up(ctx); err != nil {
			return nil, fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, m := range st {
		s := MigrationState{Version: m.Source.Version, Name: path.Base(m.Source.Path), Applied: m.State == goose.StateApplied}
		if s.Applied {
			s.AppliedAt = m.AppliedAt.UTC()
		}
		out = append(out, s)
	}
	return out, nil
}

// newProvider returns a goose provider on pool, and the function releasing
// it. Migrations hold a session advisory lock whose id is derived from the
// current schema, so processes migrating one schema take turns while
// different schemas of one database migrate independently.
func newProvider(ctx context.Context, pool *pgxpool.Pool) (*goose.Provider, func(), error) {
	schema, err := currentSchema(ctx, pool)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("pinpoint-migrate:" + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName("pinpoint_schema_migrations"),
	)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return p, func() { db.Close() }, nil
}

// errNoSchema says the connection's search_path names no schema that exists.
var errNoSchema = errors.New("the connection's search_path names no existing schema: create the schema first, or fix search_path in the connection string")

// currentSchema is the schema Pinpoint's tables go in: the first existing
// schema of the connection's search_path.
func currentSchema(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", errNoSchema
	}
	return *schema, nil
}
