package alert_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// base is the tests' fixed "now" origin: a minute boundary.
var base = time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC)

// openStore opens a fresh SQLite store.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// rows adds minute roll-up rows.
func addRows(t *testing.T, st store.Rollups, rows ...store.Rollup) {
	t.Helper()
	for i := range rows {
		if rows[i].Level == "" {
			rows[i].Level = store.LevelMinute
		}
		if rows[i].Kind == "" {
			rows[i].Kind = store.RollupRequest
		}
		if rows[i].Node == "" {
			rows[i].Node = "gw-1"
		}
	}
	if err := st.AddRollups(t.Context(), rows, nil); err != nil {
		t.Fatal(err)
	}
}

// ok and denied build request rows of one minute bucket.
func ok(bucket time.Time, route, consumer string, n int64) store.Rollup {
	return store.Rollup{Bucket: bucket, Route: route, Consumer: consumer, StatusClass: 2, Count: n}
}

func denied(bucket time.Time, route, consumer, code, stage string, n int64) store.Rollup {
	return store.Rollup{Bucket: bucket, Route: route, Consumer: consumer, Code: code, Stage: stage, Layer: "gateway", StatusClass: 4, Count: n}
}

// appendRevision stores a revision committed at at.
func appendRevision(t *testing.T, st store.Revisions, author, source, summary string, at time.Time) store.Revision {
	t.Helper()
	r, err := st.AppendRevision(t.Context(), store.Revision{
		Author: author, Source: source, Summary: summary, CreatedAt: at,
		Document: []byte("version: 1\n# " + summary + at.String() + "\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// loadConfig loads an alerts config with the webhook receiver's URL.
func loadConfig(t testing.TB, doc string, env map[string]string) *config.Config {
	t.Helper()
	c, err := config.Load("alerts.yaml", []byte(doc), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// receiver is a webhook receiver that records every notification.
type receiver struct {
	srv *httptest.Server
	got chan received

	mu sync.Mutex
	// fail answers the next requests with these statuses.
	fail []int
}

type received struct {
	n      alert.Notification
	header http.Header
	raw    []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan received, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		if len(rc.fail) > 0 {
			code := rc.fail[0]
			rc.fail = rc.fail[1:]
			rc.mu.Unlock()
			w.WriteHeader(code)
			return
		}
		rc.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		var n alert.Notification
		if err := json.Unmarshal(body, &n); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad notification %s %q: %v: %s", r.Method, r.Header.Get("Content-Type"), err, body)
		}
		rc.got <- received{n: n, header: r.Header.Clone(), raw: body}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next notification.
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
		return received{}
	}
}

// none checks that no notification is waiting (deliveries are flushed by
// closing the alerter first).
func (rc *receiver) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-rc.got:
		t.Fatalf("unexpected notification: %s", r.raw)
	default:
	}
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// syncBuffer collects a log safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
