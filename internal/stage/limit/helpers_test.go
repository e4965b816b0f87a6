package limit

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// node is one gateway node's shared limit state: what the gateway creates
// once and passes to every revision.
type node struct {
	rates  *gcra.Store
	quotas *quota.Counter
	store  *sqlite.Store
	clock  *stagetest.Clock
	obs    *observer
	redis  *redisconn.Client
}

// newNode opens a node with a fresh SQLite store for quotas.
func newNode(t testing.TB, clock *stagetest.Clock) *node {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &node{rates: gcra.NewStore(), store: st, clock: clock, obs: &observer{}, quotas: quotaCounter(t, st, clock)}
}

// quotaCounter is a quota counter on st that flushes only when asked.
func quotaCounter(t testing.TB, st *sqlite.Store, clock *stagetest.Clock) *quota.Counter {
	c := quota.NewCounter(st, quota.Options{FlushEvery: -1, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { c.Close() })
	return c
}

func (n *node) deps() Deps {
	return Deps{Rates: n.rates, Quotas: n.quotas, Redis: n.redis, Observer: n.obs, Clock: n.clock.Now}
}

// stage builds a route's stage on the node.
func (n *node) stage(t testing.TB, limits []config.RateLimit, quotas []config.Quota) *Stage {
	t.Helper()
	s, err := New("orders", limits, quotas, n.deps())
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Fatal("New returned no stage for a route with limits")
	}
	return s
}

// Who describes a request's sender.
type Who struct {
	IP         string            `yaml:"ip"`
	Credential string            `yaml:"credential"`
	Consumer   string            `yaml:"consumer"`
	Tenant     string            `yaml:"tenant"`
	Metadata   map[string]string `yaml:"metadata"`
	Headers    map[string]string `yaml:"headers"`
}

// exchange builds an exchange as the earlier stages leave it.
func exchange(w Who) *pipeline.Exchange {
	r := httptest.NewRequest("GET", "/orders", nil)
	for k, v := range w.Headers {
		r.Header.Set(k, v)
	}
	x := &pipeline.Exchange{Request: r, Route: "orders", ResponseHeader: http.Header{}}
	ip := w.IP
	if ip == "" {
		ip = "192.0.2.1"
	}
	x.ClientIP = netip.MustParseAddr(ip)
	if w.Credential != "" || w.Consumer != "" {
		x.Identity = pipeline.Identity{Authenticated: true, Method: "api_key", CredentialID: w.Credential,
			ConsumerID: w.Consumer, TenantID: w.Tenant, Metadata: w.Metadata}
	}
	return x
}

// answer is what a client would see of one Handle: the decision and every
// header the gateway would send (the exchange's and the denial's).
type answer struct {
	d      pipeline.Decision
	x      *pipeline.Exchange
	header http.Header
}

func handle(s *Stage, w Who) answer {
	x := exchange(w)
	d := s.Handle(x)
	h := x.Header().Clone()
	if d.Denial != nil {
		for k, v := range d.Denial.Header {
			h[k] = v
		}
	}
	return answer{d: d, x: x, header: h}
}

func (a answer) code() string {
	if a.d.Denial == nil {
		return ""
	}
	return a.d.Denial.Code
}

// steps returns the trace steps with outcome.
func (a answer) steps(outcome string) []pipeline.Step {
	var out []pipeline.Step
	for _, s := range a.x.Trace {
		if s.Outcome == outcome {
			out = append(out, s)
		}
	}
	return out
}

// observer records the Observer calls.
type observer struct {
	mu        sync.Mutex
	fallbacks []string
	decisions []string
}

func (o *observer) StoreFallback(route, limit string) {
	o.mu.Lock()
	o.fallbacks = append(o.fallbacks, route+"/"+limit)
	o.mu.Unlock()
}

func (o *observer) Decision(route, limit, outcome string) {
	o.mu.Lock()
	o.decisions = append(o.decisions, route+"/"+limit+"="+outcome)
	o.mu.Unlock()
}

// take returns and clears what was recorded.
func (o *observer) take() (fallbacks, decisions []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, d := slices.Clone(o.fallbacks), slices.Clone(o.decisions)
	o.fallbacks, o.decisions = nil, nil
	return f, d
}
