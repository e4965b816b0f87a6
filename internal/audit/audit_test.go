package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The origin fills what an entry leaves empty; what it sets wins.
func TestRecordFillsTheOrigin(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rec := &audit.Recorder{Store: st}
	ctx := audit.WithOrigin(t.Context(), audit.Origin{Actor: "alice", Source: audit.SourceAdminAPI, RequestID: "req-9", Revision: 4})
	if err := rec.Record(ctx,
		store.AuditEntry{Action: store.AuditTenantCreated, ObjectKind: "tenant", ObjectID: "acme"},
		store.AuditEntry{Action: store.AuditKeyExpired, ObjectKind: "key", ObjectID: "pp_live_abcdabcdabcd",
			Actor: store.AuditSystemActor, Source: "expiry", Revision: 9},
	); err != nil {
		t.Fatal(err)
	}
	// Without an origin the actor is "system".
	if err := rec.Record(context.Background(), store.AuditEntry{Action: store.AuditTenantDeleted, ObjectKind: "tenant", ObjectID: "acme"}); err != nil {
		t.Fatal(err)
	}
	es, err := st.QueryAudit(t.Context(), store.AuditQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d entries", len(es))
	}
	if e := es[0]; e.Actor != "alice" || e.Source != "admin-api" || e.RequestID != "req-9" || e.Revision != 4 {
		t.Fatalf("filled entry %+v", e)
	}
	if e := es[1]; e.Actor != "system" || e.Source != "expiry" || e.RequestID != "req-9" || e.Revision != 9 {
		t.Fatalf("explicit entry %+v", e)
	}
	if e := es[2]; e.Actor != "system" || e.Source != "" || e.RequestID != "" {
		t.Fatalf("entry without origin %+v", e)
	}
	if rec.Written() != 3 || rec.Failed() != 0 {
		t.Fatalf("written %d failed %d", rec.Written(), rec.Failed())
	}
}

// A detail is redacted by the one policy before it is stored.
func TestRecordRedactsDetails(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rec := &audit.Recorder{Store: st}
	key := "pp_live_abcdabcdabcd_" + strings.Repeat("S", 32)
	if err := rec.Record(t.Context(), store.AuditEntry{Action: store.AuditKeyRevoked, ObjectKind: "key", ObjectID: "pp_live_abcdabcdabcd",
		Detail: audit.Detail(map[string]any{"reason": "pasted " + key, "password": "hunter2", "scopes": []string{"a"}})}); err != nil {
		t.Fatal(err)
	}
	es, err := st.QueryAudit(t.Context(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(es[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d["reason"] != "pasted pp_live_abcdabcdabcd_redacted" || d["password"] != "redacted" || d["scopes"].([]any)[0] != "a" {
		t.Fatalf("detail %v", d)
	}
}

// A failed append is logged, counted and returned; a nil recorder records
// nothing and does not fail.
func TestRecordFailure(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	var logs bytes.Buffer
	rec := &audit.Recorder{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := audit.WithOrigin(t.Context(), audit.Origin{Actor: "alice", RequestID: "req-1"})
	err = rec.Record(ctx, store.AuditEntry{Action: store.AuditTenantCreated, ObjectKind: "tenant", ObjectID: "acme"},
		store.AuditEntry{Action: store.AuditTenantSuspended, ObjectKind: "tenant", ObjectID: "acme"})
	if err == nil {
		t.Fatal("append to a closed store succeeded")
	}
	if rec.Failed() != 2 || !strings.Contains(logs.String(), "audit entry not stored") ||
		!strings.Contains(logs.String(), "action=tenant.suspended") || !strings.Contains(logs.String(), "request_id=req-1") {
		t.Fatalf("failed %d, log:\n%s", rec.Failed(), logs.String())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(rec.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range families {
		values[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
	}
	if values["pinpoint_audit_write_failures_total"] != 2 || values["pinpoint_audit_entries_written_total"] != 0 {
		t.Fatalf("metrics %v, want 2 failures and 0 written", values)
	}
	var none *audit.Recorder
	if err := none.Record(ctx, store.AuditEntry{Action: "x"}); err != nil {
		t.Fatal(err)
	}
}
