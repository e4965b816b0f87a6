package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pinpoint.db")
	for i := range 3 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		v, err := s.SchemaVersion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if v != LatestSchemaVersion() {
			t.Errorf("open %d: SchemaVersion = %d, want %d", i, v, LatestSchemaVersion())
		}
		var rows int
		if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != len(migrations) {
			t.Errorf("open %d: %d schema_migrations rows, want %d", i, rows, len(migrations))
		}
		if _, err := s.AppendRevision(t.Context(), store.Revision{Author: "a", Source: "s", Document: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pinpoint.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Stamp the file as a future binary would.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", LatestSchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a newer schema")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("err = %v, want ErrSchemaTooNew", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr bool
		want    int
	}{
		{"in order", fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0002_b.sql": file("y")}, false, 2},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0003_c.sql": file("y")}, true, 0},
		{"not starting at 1", fstest.MapFS{"migrations/0002_b.sql": file("x")}, true, 0},
		{"bad name", fstest.MapFS{"migrations/init.sql": file("x")}, true, 0},
		{"short number", fstest.MapFS{"migrations/1_init.sql": file("x")}, true, 0},
		{"empty", fstest.MapFS{}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, err := loadMigrations(tt.fsys)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(ms) != tt.want {
				t.Errorf("%d migrations, want %d", len(ms), tt.want)
			}
		})
	}
}

// TestMigrateKeepsCallsOfVersion3 opens a database last migrated by a
// binary without the observe tables (schema 3) that holds a call record:
// the upgrade adds the inputs column without disturbing the record.
func TestMigrateKeepsCallsOfVersion3(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pinpoint.db")
	db, err := sql.Open("sqlite", path+"?"+writerParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:3] {
		if err := applyMigration(t.Context(), db, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO calls (time, request_id, route, method, host, path,
		status, code, layer, stage, client_ip, target, attempts, latency_ns, upstream_latency_ns, bytes_in,
		bytes_out, revision, trace, consumer_id, credential_id)
		VALUES (1, 'old-1', 'orders', 'GET', 'h', '/orders', 403, 'authz.scope_missing', 'gateway', 'authz',
		'203.0.113.7', '', 0, 5, 0, 0, 0, 3, X'5B5D', 'c1', 'pp_live_ab12')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != LatestSchemaVersion() {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	fresh := []store.Call{{Time: time.Unix(0, 2), RequestID: "new-1", Method: "GET", Inputs: []byte(`{"method":"GET"}`)}}
	if err := s.InsertCalls(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueryCalls(t.Context(), store.CallQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RequestID != "old-1" || got[0].Code != "authz.scope_missing" ||
		string(got[0].Trace) != "[]" || got[0].Inputs != nil || string(got[1].Inputs) != `{"method":"GET"}` {
		t.Errorf("calls after the upgrade = %+v", got)
	}
	// The new tables work on the upgraded file.
	if err := s.AddTokenKey(t.Context(), store.TokenKey{ID: "k1", Secret: make([]byte, store.TokenKeySize)}); err != nil {
		t.Error(err)
	}
}
