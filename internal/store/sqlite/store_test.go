package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state", "pinpoint")
	s, err := Open(t.Context(), filepath.Join(dir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write makes SQLite create the -wal and -shm files.
	if _, err := s.AppendRevision(t.Context(), store.Revision{Author: "a", Source: "s", Document: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, "pinpoint.db"), 0o600},
		{filepath.Join(dir, "pinpoint.db-wal"), 0o600},
		{filepath.Join(dir, "pinpoint.db-shm"), 0o600},
	} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tt.want {
			t.Errorf("%s: mode %o, want %o", filepath.Base(tt.path), got, tt.want)
		}
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory", filepath.Join(t.TempDir(), "a?b.db")} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			if s, err := Open(t.Context(), path); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded", path)
			}
		})
	}
}

func TestJournalModeIsWAL(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	var mode string
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var sync int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("writer synchronous = %d, want 2 (FULL)", sync)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	if _, err := s.r.ExecContext(t.Context(), "DELETE FROM revisions"); err == nil {
		t.Error("write through the read pool succeeded")
	}
}

func TestAppendRevisionRefusesWrongHash(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	r := store.Revision{Author: "a", Source: "s", Document: []byte("x"), Hash: strings.Repeat("0", 64)}
	if _, err := s.AppendRevision(t.Context(), r); err == nil {
		t.Fatal("AppendRevision with a hash not matching the document succeeded")
	}
	if _, err := s.LatestRevision(t.Context()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused revision was stored: %v", err)
	}
}

func TestQueryCallsRefusesBadStatusClass(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	for _, class := range []int{-1, 6, 42} {
		if _, err := s.QueryCalls(t.Context(), store.CallQuery{StatusClass: class}); err == nil {
			t.Errorf("StatusClass %d accepted", class)
		}
	}
}

func TestCreateAdminTokenRefusesNonHash(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	for _, tt := range []struct{ name, value string }{
		{"raw token", "ppa_live_s3cr3tvalue"},
		{"uppercase hex", strings.Repeat("AB", 32)},
		{"short", strings.Repeat("a", 63)},
		{"empty", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.CreateAdminToken(t.Context(), "ci", tt.value)
			if !errors.Is(err, ErrInvalidTokenHash) {
				t.Fatalf("err = %v, want ErrInvalidTokenHash", err)
			}
			if tt.value != "" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q echoes the value", err)
			}
		})
	}
}
