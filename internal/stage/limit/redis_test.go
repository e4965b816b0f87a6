package limit

import (
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/redislimit"
	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// redisNode is a gateway node whose limits may use Redis through c.
func redisNode(t *testing.T, clock *stagetest.Clock, c *redisconn.Client) *node {
	n := newNode(t, clock)
	n.redis = c
	return n
}

func openRedis(t *testing.T, cfg *config.Redis) *redisconn.Client {
	t.Helper()
	c, err := redisconn.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Two gateway nodes (two stages with their own local stores) share a
// store: redis limit and quota.
func TestRedisTwoNodes(t *testing.T) {
	t.Parallel()
	cfg := redistest.Config(t)
	clock := stagetest.NewClock(t0)
	// Slow enough that Redis, expiring keys in real time, keeps them
	// while the test clock stands still.
	limits := []config.RateLimit{{Name: "shared", Rate: "10/m", Key: "consumer", Store: "redis"}}
	quotas := []config.Quota{{Name: "daily", Period: "day", Limit: 15, Store: "redis"}}
	a := redisNode(t, clock, openRedis(t, cfg)).stage(t, limits, quotas)
	b := redisNode(t, clock, openRedis(t, cfg)).stage(t, limits, quotas)
	w := Who{Consumer: "c1", Credential: "k1"}
	admitted := 0
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		switch ans := handle(s, w); ans.code() {
		case "":
			admitted++
		case "ratelimit.exceeded":
			if got := ans.header.Get("Ratelimit"); got != `"shared";r=0;t=60` {
				t.Errorf("refusal RateLimit %q", got)
			}
		default:
			t.Fatalf("request %d: %s", i+1, ans.code())
		}
	}
	if admitted != 10 {
		t.Fatalf("two nodes admitted %d at once, want the shared burst of 10", admitted)
	}
	clock.Advance(30 * time.Second)
	for i := range 5 {
		if ans := handle(b, w); ans.code() != "" {
			t.Fatalf("request %d 30s later: %s", i+1, ans.code())
		}
	}
	ans := handle(a, w)
	stagetest.Denial(t, ans.d.Denial, "quota.exceeded", 429, "k1")
	if !strings.Contains(ans.d.Denial.Reason, "store redis") {
		t.Errorf("reason %q does not name the store", ans.d.Denial.Reason)
	}
	u, err := b.QuotaUsage(t.Context(), "daily", "consumer:c1", "", time.Time{})
	if err != nil || u.Used != 15 || u.Store != "redis" {
		t.Errorf("usage %+v, %v", u, err)
	}
}

// A request refused by the Redis step gives back what the local steps
// charged.
func TestRedisRefusalGivesBackLocal(t *testing.T) {
	t.Parallel()
	clock := stagetest.NewClock(t0)
	n := redisNode(t, clock, redistest.Client(t))
	s := n.stage(t, []config.RateLimit{
		{Name: "local", Rate: "2/m", Key: "credential"},
		{Name: "remote", Rate: "1/m", Key: "credential", Store: "redis"},
	}, []config.Quota{{Name: "daily", Period: "day", Limit: 2}})
	w := Who{Consumer: "c1", Credential: "k1"}
	if a := handle(s, w); a.code() != "" {
		t.Fatal(a.code())
	}
	a := handle(s, w)
	if a.code() != "ratelimit.exceeded" || a.d.Denial.Rule != "rate_limits.remote" {
		t.Fatalf("second request: %s %+v", a.code(), a.d.Denial)
	}
	// The local limit and the local quota still have room for one more:
	// the refused request's charges were returned.
	local := n.stage(t, []config.RateLimit{{Name: "local", Rate: "2/m", Key: "credential"}},
		[]config.Quota{{Name: "daily", Period: "day", Limit: 2}})
	if a := handle(local, w); a.code() != "" {
		t.Fatalf("local limits after the Redis refusal: %s (%s)", a.code(), a.d.Denial.Reason)
	}
	if a := handle(local, w); a.code() != "ratelimit.exceeded" {
		t.Fatalf("want the local limit used up now, got %q", a.code())
	}
}

// Redis down, fail_open: each node counts locally and says so.
func TestRedisFailOpen(t *testing.T) {
	t.Parallel()
	clock := stagetest.NewClock(t0)
	n := redisNode(t, clock, openRedis(t, redistest.DeadConfig()))
	s := n.stage(t, []config.RateLimit{{Name: "shared", Rate: "2/s", Key: "credential", Store: "redis"}},
		[]config.Quota{{Name: "daily", Period: "day", Limit: 1, Store: "redis"}})
	w := Who{Consumer: "c1", Credential: "k1"}
	for i := range 2 {
		a := handle(s, w)
		if a.code() != "" {
			t.Fatalf("request %d: %s", i+1, a.code())
		}
		note := a.steps(pipeline.OutcomePass)[0].Note
		if !strings.Contains(note, "shared: redis unavailable: local fallback") || !strings.Contains(note, "daily: redis unavailable: admitted uncounted") {
			t.Errorf("note %q", note)
		}
		if got := a.header.Get("Ratelimit"); got != `"shared";r=`+strconv.Itoa(1-i)+`;t=1` {
			t.Errorf("request %d: RateLimit %q", i+1, got)
		}
	}
	a := handle(s, w)
	stagetest.Denial(t, a.d.Denial, "ratelimit.exceeded", 429, "k1")
	if !strings.Contains(a.d.Denial.Reason, "redis unavailable: decided by this node's local count") {
		t.Errorf("reason %q", a.d.Denial.Reason)
	}
	f, _ := n.obs.take()
	if want := []string{"orders/shared", "orders/daily", "orders/shared", "orders/daily", "orders/shared", "orders/daily"}; !slices.Equal(f, want) {
		t.Errorf("fallbacks %v, want %v", f, want)
	}
}

// Redis down, fail_closed: 503, and nothing is charged locally.
func TestRedisFailClosed(t *testing.T) {
	t.Parallel()
	clock := stagetest.NewClock(t0)
	n := redisNode(t, clock, openRedis(t, redistest.DeadConfig()))
	w := Who{Consumer: "c1", Credential: "k1"}

	s := n.stage(t, []config.RateLimit{
		{Name: "local", Rate: "1/m", Key: "credential"},
		{Name: "shared", Rate: "10/s", Key: "credential", Store: "redis", OnStoreError: "fail_closed"},
	}, nil)
	a := handle(s, w)
	stagetest.Denial(t, a.d.Denial, "ratelimit.unavailable", 503, "k1")
	if a.d.Denial.Params["limit"] != "shared" || a.header.Get("Retry-After") != "1" || !strings.Contains(a.d.Denial.Reason, "fail_closed") {
		t.Errorf("denial %+v", a.d.Denial)
	}
	// The local limit was given back: one request still fits it.
	if a := handle(n.stage(t, []config.RateLimit{{Name: "local", Rate: "1/m", Key: "credential"}}, nil), w); a.code() != "" {
		t.Errorf("the local limit was charged by a 503: %s", a.code())
	}

	q := n.stage(t, nil, []config.Quota{{Name: "daily", Period: "day", Limit: 5, Store: "redis", OnStoreError: "fail_closed"}})
	a = handle(q, w)
	stagetest.Denial(t, a.d.Denial, "quota.unavailable", 503, "k1")
	if a.d.Denial.Params["quota"] != "daily" {
		t.Errorf("params %v", a.d.Denial.Params)
	}

	// report_only: traced as would_deny, the request goes on.
	ro := n.stage(t, []config.RateLimit{{Name: "shared", Rate: "10/s", Key: "credential", Store: "redis", OnStoreError: "fail_closed", Mode: "report_only"}}, nil)
	a = handle(ro, w)
	if a.code() != "" {
		t.Fatalf("report_only fail_closed refused: %s", a.code())
	}
	if wd := a.steps(pipeline.OutcomeWouldDeny); len(wd) != 1 || wd[0].Code != "ratelimit.unavailable" {
		t.Errorf("would_deny steps %+v", wd)
	}
	_, d := n.obs.take()
	if !slices.Contains(d, "orders/shared=error") || !slices.Contains(d, "orders/daily=error") || !slices.Contains(d, "orders/shared=would_deny") {
		t.Errorf("decisions %v", d)
	}
}

// proxy forwards TCP connections to a Redis server until it is stopped,
// and can be started again on the same port: a Redis outage and its end,
// without touching the server that other tests share.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.start("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and every connection.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Redis goes away and comes back: fail_open limits fall back locally
// meanwhile and return to the shared count afterwards.
func TestRedisRecovery(t *testing.T) {
	t.Parallel()
	cfg := redistest.Config(t)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, u.Host)
	via := *cfg
	u.Host = px.addr
	via.URL = u.String()
	via.Timeout = config.Duration(200 * time.Millisecond)
	clock := stagetest.NewClock(t0)
	n := redisNode(t, clock, openRedis(t, &via))
	s := n.stage(t, []config.RateLimit{{Name: "shared", Rate: "100/h", Key: "route", Store: "redis"}}, nil)
	direct := openRedis(t, cfg)

	note := func(a answer) string { return a.steps(pipeline.OutcomePass)[0].Note }
	if a := handle(s, Who{}); a.code() != "" || note(a) != "" {
		t.Fatalf("Redis up: %s %q", a.code(), note(a))
	}
	px.stop()
	a := handle(s, Who{})
	if a.code() != "" || !strings.Contains(note(a), "redis unavailable: local fallback") {
		t.Fatalf("Redis down: %s %q", a.code(), note(a))
	}
	// Within the backoff the stage does not even try.
	clock.Advance(redislimit.Backoff / 2)
	if a := handle(s, Who{}); !strings.Contains(note(a), "local fallback") {
		t.Fatalf("within the backoff: %q", note(a))
	}
	if _, err := s.redis.Take(t.Context(), clock.Now(), nil, nil); !errors.Is(err, redislimit.ErrDown) {
		t.Fatalf("within the backoff the store answered %v, want ErrDown", err)
	}
	px.start(px.addr)
	clock.Advance(redislimit.Backoff)
	if a := handle(s, Who{}); a.code() != "" || note(a) != "" {
		t.Fatalf("Redis back: %s %q", a.code(), note(a))
	}
	// Redis counted the two requests it saw, not the fallback ones.
	keys, err := direct.Keys(t.Context(), cfg.KeyPrefix+"rl:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
}
