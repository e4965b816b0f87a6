package postgres

import (
	"errors"
	"testing"

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
