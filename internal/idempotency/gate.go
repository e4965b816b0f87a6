package idempotency

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// stageName names the stage in traces and problem bodies.
const stageName = "idempotency"

// LockMargin is added to Options.LockTimeout: an in-flight record locks its
// key for the route's timeout plus this long, so that a request still
// streaming its response when the timeout fires does not lose its lock at
// once.
const LockMargin = 5 * time.Second

// DefaultLockTimeout is Options.LockTimeout when it is zero: the upstream's
// default route timeout.
const DefaultLockTimeout = 30 * time.Second

// DefaultMaxBodyBytes is Options.MaxBodyBytes when it is zero.
const DefaultMaxBodyBytes = 1 << 20

// ReplayedHeader marks a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// Store operations named to an Observer.
const (
	OpBegin    = "begin"
	OpComplete = "complete"
	OpRelease  = "release"
)

// Observer is told when the store failed: op is OpBegin, OpComplete or
// OpRelease. For OpComplete, err is store.ErrNotFound when the record was
// gone (its lock lapsed before the response was complete). It must be safe
// for concurrent use and return quickly; metrics and logs hang here.
type Observer func(route, op string, err error)

// Options build a Gate.
type Options struct {
	// Route is the route name; it is part of every key's scope.
	Route string
	// Config is the route's idempotency block, with defaults applied.
	Config *config.Idempotency
	// LockTimeout is how long the first request may take: the route's
	// upstream timeout. An in-flight record locks its key for LockTimeout
	// plus LockMargin. Zero: DefaultLockTimeout.
	LockTimeout time.Duration
	// MaxBodyBytes is the largest request body fingerprinted; a request
	// with a longer body runs without idempotency. Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Store keeps the records: the gateway's store (store: local) or a
	// RedisStore (store: redis). Required.
	Store store.Idempotency
	// Clock returns the current time. Nil: time.Now.
	Clock func() time.Time
	// Observer hears of store failures. Nil: nobody.
	Observer Observer
}

// Gate is the idempotency check of one route. It is built once per config
// snapshot and is safe for concurrent use.
type Gate struct {
	route      string
	scope      string // the escaped route name and "|"
	header     string // canonical key header name
	methods    []string
	required   bool
	ttl        time.Duration
	lock       time.Duration
	maxBody    int64
	maxResp    int64
	failClosed bool
	store      store.Idempotency
	now        func() time.Time
	observe    Observer

	noKeyNote, bodyNote string
}

// New builds the Gate of a route. Errors name fields of the idempotency
// block (config.Fieldf), or say that Options lack a store or a config.
func New(o Options) (*Gate, error) {
	c := o.Config
	if c == nil {
		return nil, errors.New("idempotency: no config block")
	}
	if o.Store == nil {
		return nil, errors.New("idempotency: no store")
	}
	var errs []error
	header := c.Header
	if header == "" {
		header = "Idempotency-Key"
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = []string{http.MethodPost}
	}
	for i, m := range methods {
		switch m {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			errs = append(errs, config.Fieldf(fmt.Sprintf("methods[%d]", i), "invalid method %q: idempotency keys apply to POST, PUT, PATCH or DELETE", m))
		}
	}
	ttl := c.TTL.D()
	if ttl < 0 {
		errs = append(errs, config.Fieldf("ttl", "must not be negative"))
	}
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	maxResp := int64(c.MaxResponseBytes)
	if maxResp < 0 {
		errs = append(errs, config.Fieldf("max_response_bytes", "must not be negative"))
	}
	if maxResp == 0 {
		maxResp = 1 << 20
	}
	switch c.Store {
	case "", "local", "redis":
	default:
		errs = append(errs, config.Fieldf("store", `invalid store %q: use "local" or "redis"`, c.Store))
	}
	switch c.OnStoreError {
	case "", "fail_open", "fail_closed":
	default:
		errs = append(errs, config.Fieldf("on_store_error", `invalid on_store_error %q: use "fail_open" or "fail_closed"`, c.OnStoreError))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g := &Gate{
		route:      o.Route,
		scope:      escape(o.Route, '|') + "|",
		header:     http.CanonicalHeaderKey(header),
		methods:    methods,
		required:   c.Required,
		ttl:        ttl,
		lock:       o.LockTimeout,
		maxBody:    o.MaxBodyBytes,
		maxResp:    maxResp,
		failClosed: c.OnStoreError == "fail_closed",
		store:      o.Store,
		now:        o.Clock,
		observe:    o.Observer,
	}
	if g.lock <= 0 {
		g.lock = DefaultLockTimeout
	}
	g.lock += LockMargin
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.noKeyNote = "no " + g.header + " header"
	g.bodyNote = fmt.Sprintf("body over %d bytes or unreadable: runs without idempotency", g.maxBody)
	return g, nil
}

// Header is the key header's canonical name.
func (g *Gate) Header() string { return g.header }

// applies reports whether requests with method m take part.
func (g *Gate) applies(m string) bool {
	for _, v := range g.methods {
		if v == m {
			return true
		}
	}
	return false
}

// failed tells the Observer that op failed.
func (g *Gate) failed(op string, err error) {
	if g.observe != nil {
		g.observe(g.route, op, err)
	}
}

// escape percent-encodes '%' and sep in s, so that sep can delimit it.
func escape(s string, sep byte) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, sep) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%', sep:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
