package audit_test

import (
	"path/filepath"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// BenchmarkRecord is the cost an admin change pays for its audit entry
// (one durable SQLite append, detail redacted).
func BenchmarkRecord(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "p.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rec := &audit.Recorder{Store: st}
	ctx := audit.WithOrigin(b.Context(), audit.Origin{Actor: "alice", Source: audit.SourceAdminAPI, RequestID: "req", Revision: 3})
	detail := audit.Detail(map[string]any{"consumer": "orders-app", "reason": "leaked in a CI log"})
	for b.Loop() {
		if err := rec.Record(ctx, store.AuditEntry{Action: store.AuditKeyRevoked, ObjectKind: "key",
			ObjectID: "pp_live_abcdabcdabcd", Detail: detail}); err != nil {
			b.Fatal(err)
		}
	}
}
