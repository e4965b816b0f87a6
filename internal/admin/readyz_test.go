package admin_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/admin/admintest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// An unreachable store leaves the gateway ready (it proxies on the revision
// it has) but /readyz says so; the answer is cached for about a second.
func TestReadyzReportsAnUnreachableStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pinpoint.db"))
		if err != nil {
			t.Fatal(err)
		}
		ctl := admintest.New(st)
		if _, err := ctl.Apply(t.Context(), admin.ApplyRequest{Filename: "valid.yaml", Document: readTestdata(t, "valid.yaml"), Author: "alice"}); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		h := admin.NewHandler(admin.Options{Control: ctl, Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		readyz := func() (int, admin.Readiness) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			var rd admin.Readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &rd); err != nil {
				t.Fatalf("%s: %v", rec.Body, err)
			}
			return rec.Code, rd
		}

		if code, rd := readyz(); code != 200 || !rd.Ready || rd.Store != "ok" || rd.StoreReason != "" {
			t.Fatalf("store up: %d %+v", code, rd)
		}
		if err := st.Close(); err != nil { // the store is gone
			t.Fatal(err)
		}
		if code, rd := readyz(); code != 200 || rd.Store != "ok" {
			t.Errorf("within a second of the last ping: %d %+v, want the cached ok", code, rd)
		}
		time.Sleep(1100 * time.Millisecond)
		code, rd := readyz()
		if code != 200 || !rd.Ready || rd.Store != "unreachable" || rd.StoreReason == "" {
			t.Errorf("store down: %d %+v, want 200, ready, store unreachable with a reason", code, rd)
		}
		if !bytes.Contains(logs.Bytes(), []byte("did not answer a ping")) || !bytes.Contains(logs.Bytes(), []byte("sqlite: ping")) {
			t.Errorf("outage not logged with the store's error: %s", logs.String())
		}
	})
}
