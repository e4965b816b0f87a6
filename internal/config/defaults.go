package config

import (
	"strconv"
	"time"
)

// Defaults documented on the schema types.
const (
	defaultEnvironment     = "live"
	defaultRequestIDHeader = "X-Request-Id"
	defaultDisclosure      = "standard"
	defaultShutdownTimeout = 15 * time.Second

	defaultMaxBodyBytes      = 10 << 20
	defaultMaxHeaderBytes    = 64 << 10
	defaultMaxHeaderCount    = 100
	defaultMaxURIBytes       = 8 << 10
	defaultMaxJSONDepth      = 64
	defaultMaxJSONFieldBytes = 64 << 10

	defaultCallLogRetention  = 168 * time.Hour
	defaultCallLogMaxRows    = 1_000_000
	defaultCallLogBufferSize = 10_000

	defaultProxyListenerName    = "public"
	defaultProxyListenerAddress = ":8080"
	defaultAdminListenerName    = "admin"
	defaultAdminListenerAddress = "127.0.0.1:9901"
	defaultReadHeaderTimeout    = 10 * time.Second
	defaultIdleTimeout          = 120 * time.Second

	defaultRouteTimeout = 30 * time.Second
)

// ApplyDefaults fills every field left at its zero value with the default
// documented on it; explicit values are kept. Load calls it after
// validation, so configs from Load are complete; call it yourself on a
// Config built in code. Calling it twice changes nothing.
//
// Route limits are left as written (zero means "inherit"): combine them
// with the gateway's using Limits.Merge.
func (c *Config) ApplyDefaults() { c.applyDefaults(nil) }

// applyDefaults is ApplyDefaults; explicit (may be nil) reports whether a
// field path was written in the document, which only matters for target
// weights: an explicit "weight: 0" takes a target out of rotation.
func (c *Config) applyDefaults(explicit func(path string) bool) {
	c.Gateway.applyDefaults()
	c.applyProtectDefaults()
	c.applyObserveDefaults()
	if len(c.Listeners) == 0 {
		c.Listeners = []Listener{
			{Name: defaultProxyListenerName, Kind: "proxy", Address: defaultProxyListenerAddress},
			{Name: defaultAdminListenerName, Kind: "admin", Address: defaultAdminListenerAddress},
		}
	}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		setDuration(&l.ReadHeaderTimeout, defaultReadHeaderTimeout)
		setDuration(&l.IdleTimeout, defaultIdleTimeout)
	}
	for i := range c.Routes {
		setDuration(&c.Routes[i].Timeout, defaultRouteTimeout)
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		u.applyDefaults()
		for j := range u.Targets {
			path := "upstreams[" + strconv.Itoa(i) + "].targets[" + strconv.Itoa(j) + "].weight"
			if u.Targets[j].Weight == 0 && (explicit == nil || !explicit(path)) {
				u.Targets[j].Weight = 1
			}
		}
	}
}

func (g *Gateway) applyDefaults() {
	setString(&g.Environment, defaultEnvironment)
	setString(&g.RequestIDHeader, defaultRequestIDHeader)
	setString(&g.Disclosure, defaultDisclosure)
	setString(&g.ForwardedHeader, "X-Forwarded-For")
	setDuration(&g.ShutdownTimeout, defaultShutdownTimeout)
	l := &g.Limits
	setSize(&l.MaxBodyBytes, defaultMaxBodyBytes)
	setSize(&l.MaxHeaderBytes, defaultMaxHeaderBytes)
	setInt(&l.MaxHeaderCount, defaultMaxHeaderCount)
	setSize(&l.MaxURIBytes, defaultMaxURIBytes)
	setInt(&l.MaxJSONDepth, defaultMaxJSONDepth)
	setSize(&l.MaxJSONFieldBytes, defaultMaxJSONFieldBytes)
	cl := &g.CallLog
	setBool(&cl.Enabled, true)
	setDuration(&cl.Retention, defaultCallLogRetention)
	setInt(&cl.MaxRows, defaultCallLogMaxRows)
	setInt(&cl.BufferSize, defaultCallLogBufferSize)
	setBool(&cl.RedactQuery, true)
}

func (u *Upstream) applyDefaults() {
	setString(&u.Balance, "round_robin")
	if u.Balance == "consistent_hash" {
		setString(&u.HashOn, "ip")
	}
	a := &u.HealthCheck.Active
	setDuration(&a.Interval, 10*time.Second)
	setDuration(&a.Timeout, 2*time.Second)
	setInt(&a.HealthyThreshold, 2)
	setInt(&a.UnhealthyThreshold, 3)
	p := &u.HealthCheck.Passive
	setInt(&p.ConsecutiveFailures, 5)
	setDuration(&p.EjectFor, 30*time.Second)
	t := &u.Timeouts
	setDuration(&t.Connect, 5*time.Second)
	setDuration(&t.Idle, 90*time.Second)
	setInt(&u.Pool.MaxIdlePerTarget, 64)
	cb := &u.CircuitBreaker
	if cb.FailureRatio == 0 {
		cb.FailureRatio = 0.5
	}
	setInt(&cb.MinRequests, 20)
	setDuration(&cb.Window, 10*time.Second)
	setDuration(&cb.OpenFor, 30*time.Second)
	setInt(&cb.HalfOpenRequests, 3)
	r := &u.Retry
	setInt(&r.Attempts, 1)
	if r.BudgetRatio == 0 {
		r.BudgetRatio = 0.2
	}
	setInt(&r.MinPerSecond, 3)
}

// IsEnabled reports whether the call log is on (the default).
func (c *CallLog) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// RedactsQuery reports whether logged paths have their query values
// replaced with "redacted" (the default).
func (c *CallLog) RedactsQuery() bool { return c.RedactQuery == nil || *c.RedactQuery }

// Merge returns l with every non-zero field of over replacing l's: a
// route's limits are gateway.Limits.Merge(route.Limits).
func (l Limits) Merge(over Limits) Limits {
	if over.MaxBodyBytes != 0 {
		l.MaxBodyBytes = over.MaxBodyBytes
	}
	if over.MaxHeaderBytes != 0 {
		l.MaxHeaderBytes = over.MaxHeaderBytes
	}
	if over.MaxHeaderCount != 0 {
		l.MaxHeaderCount = over.MaxHeaderCount
	}
	if over.MaxURIBytes != 0 {
		l.MaxURIBytes = over.MaxURIBytes
	}
	if over.MaxJSONDepth != 0 {
		l.MaxJSONDepth = over.MaxJSONDepth
	}
	if over.MaxJSONFieldBytes != 0 {
		l.MaxJSONFieldBytes = over.MaxJSONFieldBytes
	}
	return l
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func setInt(i *int, def int) {
	if *i == 0 {
		*i = def
	}
}

func setSize(s *ByteSize, def int64) {
	if *s == 0 {
		*s = ByteSize(def)
	}
}

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

func setBool(b **bool, def bool) {
	if *b == nil {
		*b = &def
	}
}
