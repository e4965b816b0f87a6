// Package sqlite is Pinpoint's embedded store: config revisions, the call log
// and admin API tokens in one SQLite file, on the pure-Go modernc.org/sqlite
// driver (no cgo).
//
// The database runs in WAL mode with synchronous=FULL, so a revision is on
// stable storage once AppendRevision returns: it survives the process being
// killed and the machine losing power. All writes go through one connection
// (BEGIN IMMEDIATE), which keeps concurrent writers in this process from
// failing with SQLITE_BUSY; other processes writing the same file (a
// `pinpoint apply` next to `pinpoint serve`) wait up to busy_timeout (5s).
// Reads use a separate read-only pool and never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ store.Store = (*Store)(nil)

// Pragmas shared by both pools. busy_timeout is in milliseconds.
const commonPragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"

// writerParams make the single writer connection durable (synchronous=FULL
// syncs the WAL on every commit) and take the write lock at BEGIN, so a
// transaction never has to upgrade a read lock and fail with SQLITE_BUSY.
const writerParams = commonPragmas +
	"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// readerParams open connections that refuse to write; the journal mode is a
// property of the file, set by the writer.
const readerParams = commonPragmas + "&_query_only=1"

// Store is a store.Store in one SQLite database file. It is safe for
// concurrent use; create it with Open and release it with Close.
type Store struct {
	path string
	w    *sql.DB // one connection: every write
	r    *sql.DB // read-only pool
}

// Open opens (creating if needed) the database at path, for example
// "/var/lib/pinpoint/pinpoint.db", and brings its schema up to date. A new
// parent directory is created with mode 0700 and a new file with mode 0600,
// because the database holds call logs and credential hashes; existing
// directories and files keep their modes. Open refuses a database written by
// a newer Pinpoint (ErrSchemaTooNew) rather than risk damaging it.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q: a file path is required", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// The driver splits its DSN at the first '?'.
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?'", abs)
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}

	s := &Store{path: abs}
	s.w, err = sql.Open("sqlite", abs+"?"+writerParams)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if err := migrate(ctx, s.w); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}

	s.r, err = sql.Open("sqlite", abs+"?"+readerParams)
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return s, nil
}

// createFile makes the parent directory (0700) and an empty database file
// (0600) when they do not exist yet, so SQLite never creates them with the
// process umask's wider defaults. SQLite gives the -wal and -shm files the
// database file's mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return f.Close()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping implements store.Pinger: it checks that the database can be read. It
// uses the read pool, so a long write does not make the store look down.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes both connection pools. Calls still in progress may fail.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// unixNanos encodes t for storage; the zero time is stored as 0.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNanos decodes a stored time as UTC; 0 is the zero time.
func fromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// withTx runs f in a write transaction (BEGIN IMMEDIATE on the single writer
// connection) and commits when f returns nil.
func (s *Store) withTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
