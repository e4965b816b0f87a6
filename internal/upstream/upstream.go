// Package upstream sends requests to the backend services behind routes.
//
// An Upstream is built once from a config.Upstream and reused for as long as
// that upstream's configuration is unchanged. It picks a target (weighted
// round robin, least connections, consistent hashing or weighted random),
// skips targets that active health checks marked down or that passive
// ejection took out, stops traffic for a while when the circuit breaker
// opens, proxies the request with net/http/httputil.ReverseProxy and retries
// idempotent requests on another target within a retry budget.
//
// Every failure that happens before a response byte reached the client is
// returned as a *pipeline.Denial naming an upstream.* reason code; the
// gateway writes the problem. A response written by the backend, whatever its
// status, is passed through untouched and labeled with Pinpoint-Layer:
// upstream.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Defaults documented in internal/config/types.go, applied here to zero values.
const (
	defaultConnectTimeout   = 5 * time.Second
	defaultIdleTimeout      = 90 * time.Second
	defaultMaxIdlePerTarget = 64
	defaultRouteTimeout     = 30 * time.Second
	defaultEjectFor         = 30 * time.Second
	defaultConsecutiveFails = 5
	defaultRetryAttempts    = 1
	defaultBudgetRatio      = 0.2
	defaultMinRetriesPerSec = 3
	// maxResponseHeaderBytes bounds a target's response headers; larger ones
	// are answered with upstream.bad_response.
	maxResponseHeaderBytes = 1 << 20
	// tcpKeepAlive is the keep-alive probe period of target connections.
	tcpKeepAlive = 30 * time.Second
)

// Options are the run-time dependencies of an Upstream.
type Options struct {
	// Logger receives health transitions, ejections and errors that happen
	// after a response was already passed through. Nil discards them.
	Logger *slog.Logger
}

// Upstream is one backend service: its targets, how to pick one, their
// health, the circuit breaker, the retry budget and the connection pool.
// It is safe for concurrent use.
type Upstream struct {
	name    string
	log     *slog.Logger
	targets []*target
	bal     balancer
	key     hashKey

	transport *http.Transport
	proxy     *httputil.ReverseProxy

	breaker *breaker // nil when circuit_breaker.enabled is false
	budget  *budget
	retries int // retries after the first attempt; 0 disables

	passiveThreshold int32 // consecutive failures that eject; 0 disables
	ejectFor         time.Duration
	responseHeader   time.Duration // transport's ResponseHeaderTimeout (0: none)

	health activeHealth
	probe  func(ctx context.Context, t *target) error // replaced in tests

	mu      sync.Mutex
	started bool
	closed  bool
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// target is one instance of the upstream.
type target struct {
	index    int
	scheme   string // "http" or "https"
	host     string // URL host as configured (host or host:port)
	hostport string // host:port with the scheme's default port filled in
	basePath string // escaped base path without a trailing slash; "" for none
	display  string // scheme://host[/base], for traces, logs and Status
	weight   int

	inflight     atomic.Int64
	fails        atomic.Int32 // consecutive passive failures
	ejectedUntil atomic.Int64 // unix nanoseconds; 0 or past: not ejected
	down         atomic.Bool  // marked down by active health checks

	mu      sync.Mutex
	lastErr string
}

// usable reports whether t may receive traffic at now (unix nanoseconds).
func (t *target) usable(now int64) bool {
	return !t.down.Load() && t.ejectedUntil.Load() <= now
}

func (t *target) setLastErr(s string) {
	t.mu.Lock()
	t.lastErr = s
	t.mu.Unlock()
}

// TargetStatus is the operator's view of one target, for explain and the
// admin API. It may hold internal addresses; never show it to API callers.
type TargetStatus struct {
	// URL is the target's URL as configured.
	URL string `json:"url"`
	// Weight is the balancing weight.
	Weight int `json:"weight"`
	// Healthy is true when the target may receive traffic now.
	Healthy bool `json:"healthy"`
	// CheckDown is true when active health checks marked the target down.
	CheckDown bool `json:"check_down"`
	// EjectedUntil is when passive ejection ends; zero when not ejected.
	EjectedUntil time.Time `json:"ejected_until,omitzero"`
	// InFlight is the number of requests the target is serving.
	InFlight int64 `json:"in_flight"`
	// ConsecutiveFailures of real traffic since the last success or ejection.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// LastError is the most recent failure (request or probe), or "".
	LastError string `json:"last_error,omitempty"`
}

// New builds an Upstream from cfg. Zero values take the defaults documented
// in the config package. It returns an error for a configuration it cannot
// use (no targets, a bad target URL, an unknown balance or hash_on, an
// unreadable CA file). Call Start to begin active health checks and Close
// when the upstream is no longer used.
func New(cfg config.Upstream, o Options) (*Upstream, error) {
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("upstream %q: at least one target is required", cfg.Name)
	}
	u := &Upstream{name: cfg.Name, log: o.Logger}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	u.log = u.log.With("upstream", cfg.Name)
	anyTLS := false
	for i, tc := range cfg.Targets {
		t, err := parseTarget(i, tc)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: targets[%d]: %w", cfg.Name, i, err)
		}
		anyTLS = anyTLS || t.scheme == "https"
		u.targets = append(u.targets, t)
	}
	if err := u.setBalance(cfg.Balance, cfg.HashOn); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	tlsCfg, err := clientTLS(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: tls: %w", cfg.Name, err)
	}
	u.setResilience(cfg)
	u.health = newActiveHealth(cfg.HealthCheck.Active)
	u.probe = u.httpProbe
	u.responseHeader = cfg.Timeouts.ResponseHeader.D()
	u.transport = newTransport(cfg, tlsCfg, anyTLS)
	u.proxy = u.newProxy()
	return u, nil
}

func (u *Upstream) setResilience(cfg config.Upstream) {
	switch n := cfg.HealthCheck.Passive.ConsecutiveFailures; {
	case n < 0:
		u.passiveThreshold = 0
	case n == 0:
		u.passiveThreshold = defaultConsecutiveFails
	default:
		u.passiveThreshold = int32(n)
	}
	u.ejectFor = cfg.HealthCheck.Passive.EjectFor.Or(defaultEjectFor)
	switch n := cfg.Retry.Attempts; {
	case n < 0:
		u.retries = 0
	case n == 0:
		u.retries = defaultRetryAttempts
	default:
		u.retries = n
	}
	u.budget = newBudget(cfg.Retry)
	if cfg.CircuitBreaker.Enabled {
		u.breaker = newBreaker(cfg.CircuitBreaker)
	}
}

func parseTarget(i int, tc config.Target) (*target, error) {
	pu, err := url.Parse(tc.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid url: %w", err)
	}
	if pu.Scheme != "http" && pu.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", tc.URL)
	}
	if pu.Host == "" || pu.Hostname() == "" {
		return nil, fmt.Errorf("url %q: host is missing", tc.URL)
	}
	if pu.User != nil {
		// Credentials in URLs end up in logs and traces; refuse them.
		return nil, errors.New("url must not contain credentials; send them with a request header rule")
	}
	if pu.RawQuery != "" || pu.ForceQuery || pu.Fragment != "" {
		return nil, fmt.Errorf("url %q: query and fragment are not allowed", tc.URL)
	}
	if tc.Weight < 0 {
		return nil, fmt.Errorf("weight %d must not be negative", tc.Weight)
	}
	t := &target{index: i, scheme: pu.Scheme, host: pu.Host, weight: tc.Weight}
	if t.weight == 0 {
		t.weight = 1
	}
	port := pu.Port()
	if port == "" {
		port = "80"
		if pu.Scheme == "https" {
			port = "443"
		}
	}
	t.hostport = net.JoinHostPort(pu.Hostname(), port)
	t.basePath = strings.TrimSuffix(pu.EscapedPath(), "/")
	t.display = pu.Scheme + "://" + pu.Host + t.basePath
	return t, nil
}

func clientTLS(c config.UpstreamTLS) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // explicit, documented opt-out
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates found", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func newTransport(cfg config.Upstream, tlsCfg *tls.Config, anyTLS bool) *http.Transport {
	connect := cfg.Timeouts.Connect.Or(defaultConnectTimeout)
	dialer := &net.Dialer{Timeout: connect, KeepAlive: tcpKeepAlive}
	idle := cfg.Pool.MaxIdlePerTarget
	if idle <= 0 {
		idle = defaultMaxIdlePerTarget
	}
	return &http.Transport{
		// Environment proxies (HTTP_PROXY) never apply to a gateway's own targets.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsCfg,
		TLSHandshakeTimeout:    connect,
		ForceAttemptHTTP2:      anyTLS,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    idle,
		MaxConnsPerHost:        max(cfg.Pool.MaxConnsPerTarget, 0),
		IdleConnTimeout:        cfg.Timeouts.Idle.Or(defaultIdleTimeout),
		ResponseHeaderTimeout:  cfg.Timeouts.ResponseHeader.D(),
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
}

// Name returns the upstream's name.
func (u *Upstream) Name() string { return u.name }

// Start begins active health checks when health_check.active.path is set.
// It is idempotent, and does nothing after Close.
func (u *Upstream) Start() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.started || u.closed {
		return
	}
	u.started = true
	if !u.health.enabled() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	u.stop = cancel
	for _, t := range u.targets {
		u.wg.Go(func() { u.watch(ctx, t) })
	}
}

// Close stops health checks, waits for running probes to end and closes
// idle connections. Requests in flight finish normally. It is idempotent.
func (u *Upstream) Close() {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	u.closed = true
	stop := u.stop
	u.mu.Unlock()
	if stop != nil {
		stop()
	}
	u.wg.Wait()
	u.transport.CloseIdleConnections()
}

// Status reports every target's health and load, in configuration order.
func (u *Upstream) Status() []TargetStatus {
	now := time.Now().UnixNano()
	out := make([]TargetStatus, len(u.targets))
	for i, t := range u.targets {
		s := TargetStatus{
			URL:                 t.display,
			Weight:              t.weight,
			Healthy:             t.usable(now),
			CheckDown:           t.down.Load(),
			InFlight:            t.inflight.Load(),
			ConsecutiveFailures: int(t.fails.Load()),
		}
		if until := t.ejectedUntil.Load(); until > now {
			s.EjectedUntil = time.Unix(0, until)
		}
		t.mu.Lock()
		s.LastError = t.lastErr
		t.mu.Unlock()
		out[i] = s
	}
	return out
}

// Circuit reports the circuit breaker's state: "disabled", "closed", "open"
// or "half_open", and when an open circuit half-opens (zero otherwise).
func (u *Upstream) Circuit() (state string, halfOpensAt time.Time) {
	if u.breaker == nil {
		return "disabled", time.Time{}
	}
	return u.breaker.status(time.Now())
}
