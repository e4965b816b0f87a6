package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func TestOpenTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	s1, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if _, err := s1.AppendRevision(t.Context(), store.Revision{Author: "a", Source: "s", Document: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	if r, err := s2.LatestRevision(t.Context()); err != nil || r.Number != 1 {
		t.Errorf("second Open lost data: %+v, %v", r, err)
	}
	v, err := s2.SchemaVersion(t.Context())
	if err != nil || v != LatestSchemaVersion() {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	// Both stores share the counters: numbering goes on without gaps.
	r, err := s2.AppendRevision(t.Context(), store.Revision{Author: "a", Source: "s", Document: []byte("y")})
	if err != nil || r.Number != 2 {
		t.Errorf("append through the second store = %d, %v; want 2", r.Number, err)
	}
}

func TestMigrateStatusAndUp(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	st, err := Migrate(t.Context(), dsn, "status")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(st)) != LatestSchemaVersion() {
		t.Fatalf("status lists %d migrations, want %d", len(st), LatestSchemaVersion())
	}
	for i, m := range st {
		if m.Version != int64(i+1) || m.Applied || !m.AppliedAt.IsZero() || m.Name == "" {
			t.Errorf("status on a new schema [%d] = %+v; want version %d pending", i, m, i+1)
		}
	}
	if st[0].Name != "0001_init.sql" {
		t.Errorf("first migration named %q", st[0].Name)
	}
	st, err = Migrate(t.Context(), dsn, "up")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st {
		if !m.Applied || m.AppliedAt.IsZero() {
			t.Errorf("after up: %+v, want applied", m)
		}
	}
	again, err := Migrate(t.Context(), dsn, "up")
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	for i := range again {
		if !again[i].AppliedAt.Equal(st[i].AppliedAt) {
			t.Errorf("second up re-applied %s", again[i].Name)
		}
	}
	if _, err := Migrate(t.Context(), dsn, "down"); err == nil {
		t.Error("Migrate accepted the unknown command down")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A newer binary recorded a migration this one does not know.
	if _, err := s.pool.Exec(t.Context(),
		`INSERT INTO pinpoint_schema_migrations (version_id, is_applied) VALUES ($1, true)`,
		LatestSchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), dsn); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	if _, err := Migrate(t.Context(), dsn, "status"); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("status on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenNamesAMissingSchema(t *testing.T) {
	admin(t) // skips without PostgreSQL
	dsn := withSearchPath(t, baseDSN(), "pp_test_does_not_exist")
	_, err := Open(t.Context(), dsn)
	if !errors.Is(err, errNoSchema) {
		t.Fatalf("Open on a missing schema = %v, want errNoSchema", err)
	}
	if _, err := Migrate(t.Context(), dsn, "status"); !errors.Is(err, errNoSchema) {
		t.Fatalf("Migrate on a missing schema = %v, want errNoSchema", err)
	}
}

// TestMigrateKeepsCallsOfVersion4 upgrades a schema last migrated by a
// binary without the observe tables (version 4) whose call log already has
// a daily partition with a record: the inputs column reaches the existing
// partition (new records with inputs land in it) and the old record reads
// back unchanged.
func TestMigrateKeepsCallsOfVersion4(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, done, err := newProvider(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	done()
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`CREATE TABLE calls_p20260314 PARTITION OF calls FOR VALUES FROM ('2026-03-14T00:00:00Z') TO ('2026-03-15T00:00:00Z')`,
		`UPDATE call_counter SET last = 1`,
		`INSERT INTO calls (seq, time, request_id, route, method, host, path, status, code, layer, stage,
			client_ip, target, attempts, latency_ns, upstream_latency_ns, bytes_in, bytes_out, revision, trace,
			consumer_id, credential_id)
		 VALUES (1, '2026-03-14T10:00:00Z', 'old-1', 'orders', 'GET', 'h', '/orders', 403, 'authz.scope_missing',
			'gateway', 'authz', '203.0.113.7', '', 0, 5, 0, 0, 0, 3, '\x5b5d', 'c1', 'pp_live_ab12')`,
	} {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()

	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != LatestSchemaVersion() {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	fresh := []store.Call{{Time: day.Add(11 * time.Hour), RequestID: "new-1", Method: "GET", Inputs: []byte(`{"method":"GET"}`)}}
	if err := s.InsertCalls(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueryCalls(t.Context(), store.CallQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RequestID != "old-1" || got[0].Code != "authz.scope_missing" ||
		string(got[0].Trace) != "[]" || got[0].Inputs != nil || string(got[1].Inputs) != `{"method":"GET"}` || got[1].Seq != 2 {
		t.Errorf("calls after the upgrade = %+v", got)
	}
	var inPartition int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM calls_p20260314 WHERE inputs IS NOT NULL`).Scan(&inPartition); err != nil || inPartition != 1 {
		t.Errorf("records with inputs in the pre-existing partition = %d, %v; want 1", inPartition, err)
	}
}
