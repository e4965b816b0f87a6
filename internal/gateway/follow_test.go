package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/postgres/pgtest"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// clusterNode is one gateway of a cluster: its own PostgreSQL store handle
// on the shared schema, its own identity registry and listener, following
// the store.
type clusterNode struct {
	t   *testing.T
	g   *Gateway
	svc *identity.Service
	srv *httptest.Server
}

// withoutNotifier hides a store's store.Notifier: a follower on it can
// only poll.
type withoutNotifier struct{ store.Store }

func newClusterNode(t *testing.T, dsn string, poll time.Duration, notify bool) *clusterNode {
	t.Helper()
	ctx := context.Background()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var st store.Store = pg
	if !notify {
		st = withoutNotifier{pg}
	}
	live := identity.NewRegistry()
	g := New(Options{Store: st, Metrics: telemetry.New(), Identities: live,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := &clusterNode{t: t, g: g}
	n.svc = &identity.Service{Store: st, Live: live, Env: func() string { return "live" },
		Declared: func() *identity.Declared {
			if s := g.Current(); s != nil {
				return s.Directory().Declared
			}
			return nil
		}}
	if err := n.svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.LoadLatest(ctx); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	g.SetListening(true)
	n.srv = httptest.NewServer(g)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Follow(fctx, poll)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		n.srv.Close()
		g.Close()
		pg.Close()
	})
	return n
}

func (n *clusterNode) apply(doc string) int64 {
	n.t.Helper()
	res, err := n.g.Apply(context.Background(), admin.ApplyRequest{
		Filename: "test.yaml", Document: []byte(doc), Author: "test", Source: "test"})
	if err != nil {
		n.t.Fatalf("apply: %v", err)
	}
	return res.Revision.Number
}

// get sends GET path with an optional API key and returns the status and
// the Pinpoint-Code and X-Backend headers.
func (n *clusterNode) get(path, key string) (status int, code, backend string) {
	n.t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.srv.URL+path, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := n.srv.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Pinpoint-Code"), resp.Header.Get("X-Backend")
}

// within polls cond until it holds, failing the test after limit; it
// returns how long that took.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// clusterConfig routes /app to the backend at url and /keyed to it behind
// API-key authentication; marker makes each document distinct.
func clusterConfig(url string, marker int) string {
	return fmt.Sprintf(`version: 1
# revision marker %d
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:0"}
authenticators:
  - {name: keys, type: api_key}
routes:
  - name: app
    paths: ["/app"]
    upstream: app
  - name: keyed
    paths: ["/keyed"]
    upstream: app
    auth: {methods: [keys]}
upstreams:
  - name: app
    targets: [{url: %q}]
`, marker, url)
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// A revision applied on one node is served by the other, and a key revoked
// or a consumer suspended on one is refused by the other — through
// notifications alone (the followers poll only once an hour).
func TestFollowPropagatesThroughNotifications(t *testing.T) {
	dsn := pgtest.FreshSchemaDSN(t)
	blue, green := backend(t, "blue"), backend(t, "green")
	a := newClusterNode(t, dsn, time.Hour, true)
	b := newClusterNode(t, dsn, time.Hour, true)

	a.apply(clusterConfig(blue.URL, 0))
	within(t, 2*time.Second, "B serves the first revision", func() bool {
		_, _, be := b.get("/app", "")
		return be == "blue"
	})
	a.apply(clusterConfig(green.URL, 1))
	within(t, 2*time.Second, "B serves the second revision", func() bool {
		_, _, be := b.get("/app", "")
		return be == "green"
	})

	var lags []time.Duration
	for i := range 20 {
		n := a.apply(clusterConfig(green.URL, 2+i))
		lags = append(lags, within(t, 2*time.Second, "B follows revision "+fmt.Sprint(n),
			func() bool { return b.g.Revision() == n }))
	}
	t.Logf("revision propagation over %d applies: p50 %s, p99 %s, max %s", len(lags),
		percentile(lags, 0.5), percentile(lags, 0.99), slices.Max(lags))

	ctx := context.Background()
	if _, err := a.svc.PutConsumer(ctx, store.Consumer{ID: "mobile"}, true); err != nil {
		t.Fatal(err)
	}
	key, k, err := a.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "mobile"})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "B accepts a key issued on A", func() bool {
		st, _, _ := b.get("/keyed", key)
		return st == 200
	})
	if _, err := a.svc.SetConsumerStatus(ctx, "mobile", identity.StatusSuspended, "chargeback", "billing"); err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "B refuses a consumer suspended on A", func() bool {
		st, code, _ := b.get("/keyed", key)
		return st == 403 && code == "consumer.suspended"
	})
	if _, err := a.svc.SetConsumerStatus(ctx, "mobile", identity.StatusActive, "", ""); err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "B accepts the key of a consumer reactivated on A", func() bool {
		st, _, _ := b.get("/keyed", key)
		return st == 200
	})
	start := time.Now()
	if _, err := a.svc.RevokeKey(ctx, k.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "B refuses a key revoked on A", func() bool {
		st, code, _ := b.get("/keyed", key)
		return st == 401 && code == "authn.key_revoked"
	})
	t.Logf("key revocation propagation: %s", time.Since(start))

	// A change made on B reaches A the same way; deletions remove.
	key2, _, err := b.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "mobile"})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "A accepts a key issued on B", func() bool {
		st, _, _ := a.get("/keyed", key2)
		return st == 200
	})
	if err := b.svc.DeleteConsumer(ctx, "mobile"); err != nil {
		t.Fatal(err)
	}
	within(t, 2*time.Second, "A refuses the key of a consumer deleted on B", func() bool {
		st, code, _ := a.get("/keyed", key2)
		return st == 401 && code == "authn.key_unknown"
	})
	if a.g.o.Identities.Consumer("mobile") != nil || a.g.o.Identities.Len() != 0 {
		t.Fatalf("A still holds the deleted consumer or its keys (%d keys)", a.g.o.Identities.Len())
	}
}

// Without notifications a follower still converges on the newest revision
// by polling.
func TestFollowConvergesByPolling(t *testing.T) {
	dsn := pgtest.FreshSchemaDSN(t)
	blue, green := backend(t, "blue"), backend(t, "green")
	a := newClusterNode(t, dsn, time.Hour, true)
	b := newClusterNode(t, dsn, 50*time.Millisecond, false)
	a.apply(clusterConfig(blue.URL, 0))
	within(t, 2*time.Second, "B serves the first revision", func() bool {
		_, _, be := b.get("/app", "")
		return be == "blue"
	})
	n := a.apply(clusterConfig(green.URL, 1))
	within(t, 2*time.Second, "B serves the second revision", func() bool {
		_, _, be := b.get("/app", "")
		return be == "green" && b.g.Revision() == n
	})

	// Identities reach B by its periodic resynchronization (every
	// identityPollFactor polls: 500 ms here).
	ctx := context.Background()
	if _, err := a.svc.PutConsumer(ctx, store.Consumer{ID: "mobile"}, true); err != nil {
		t.Fatal(err)
	}
	key, k, err := a.svc.CreateKey(ctx, identity.NewKey{ConsumerID: "mobile"})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 3*time.Second, "B accepts a key created on A", func() bool {
		st, _, _ := b.get("/keyed", key)
		return st == http.StatusOK
	})
	if _, err := a.svc.RevokeKey(ctx, k.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	within(t, 3*time.Second, "B refuses the key revoked on A", func() bool {
		st, code, _ := b.get("/keyed", key)
		return st == http.StatusUnauthorized && code == "authn.key_revoked"
	})
}

// A stored revision that does not compile on a follower is skipped: the
// running revision keeps serving, and the next good one is followed.
func TestFollowSkipsARevisionThatDoesNotCompile(t *testing.T) {
	dsn := pgtest.FreshSchemaDSN(t)
	blue, green := backend(t, "blue"), backend(t, "green")
	a := newClusterNode(t, dsn, 20*time.Millisecond, true)
	a.apply(clusterConfig(blue.URL, 0))
	b := newClusterNode(t, dsn, 20*time.Millisecond, true)
	if b.g.Revision() != 1 {
		t.Fatalf("B started on revision %d", b.g.Revision())
	}
	// A revision that refers to a variable only A's environment had.
	pg, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	bad := []byte(clusterConfig("${ONLY_ON_A}", 1))
	if _, err := pg.AppendRevision(context.Background(), store.Revision{Author: "test", Source: "test", Document: bad}); err != nil {
		t.Fatal(err)
	}
	n := a.apply(clusterConfig(green.URL, 2))
	within(t, 2*time.Second, "B skips revision 2 and serves revision 3", func() bool {
		_, _, be := b.get("/app", "")
		return be == "green" && b.g.Revision() == n
	})
	if n != 3 {
		t.Fatalf("good revision is %d, want 3", n)
	}
}
