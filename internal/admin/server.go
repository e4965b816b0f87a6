// Package admin is Pinpoint's admin REST API: health and readiness probes,
// Prometheus metrics, configuration revisions (apply, validate, rollback)
// and the call log. Everything except the probes needs an admin bearer
// token; every error is an RFC 9457 problem with an admin.* reason code.
//
// The package also holds the token bootstrap (EnsureToken) and the Go
// client the CLI uses (Client).
package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Options configure the admin API handler.
type Options struct {
	// Control is the running gateway. Required.
	Control Control
	// Store holds revisions, the call log and admin token hashes. Required.
	Store store.Store
	// Metrics serves GET /metrics (usually promhttp.HandlerFor(registry, ...)).
	// Nil: /metrics is not served.
	Metrics http.Handler
	// Logger receives store failures and configuration changes. Nil: discard.
	Logger *slog.Logger
	// Version is the gateway's version, reported by GET /admin/version.
	Version string
	// Identities manages tenants, consumers and API keys. Nil: those
	// endpoints are not served.
	Identities *identity.Service
	// Quotas reads quota usage (the running gateway). Nil: the
	// /admin/quotas endpoints are not served.
	Quotas QuotaReader
	// Stats reads the analytics roll-ups. Nil: the /admin/stats endpoints
	// are not served.
	Stats *analytics.Reader
	// ConfigFile is the path of the file that owns the configuration
	// (pinpoint serve --config FILE). When set, applies and rollbacks
	// through the admin API are refused with 409 admin.config_owned_by_file;
	// dry runs and validation still work.
	ConfigFile string
}

// The realm in WWW-Authenticate challenges.
const authRealm = "pinpoint-admin"

// Request ids of admin requests are sent in this header.
const requestIDHeader = "X-Request-Id"

type handler struct {
	Options
	log   *slog.Logger
	mux   *http.ServeMux
	probe storeProbe
}

// endpoint is one admin route; the table drives registration, 405 Allow
// headers and the authentication test.
type endpoint struct {
	method, path string
	public       bool
	serve        http.HandlerFunc
}

// NewHandler returns the admin API:
//
//	GET  /healthz                           liveness, no token
//	GET  /readyz                            readiness, no token
//	GET  /metrics                           Prometheus metrics
//	GET  /admin/version                     the gateway's version
//	GET  /admin/revisions?limit=&before=    revisions, newest first
//	GET  /admin/revisions/current           the revision being served
//	GET  /admin/revisions/{n}               one revision with its document
//	POST /admin/revisions/{n}/rollback      re-apply revision n's document
//	POST /admin/config?dry_run=&filename=   apply a YAML document
//	POST /admin/config/validate?filename=   validate a YAML document
//	POST /admin/simulate                    run a described request without serving it
//	GET  /admin/calls?status=&code=&...     query the call log
//	GET  /admin/calls/{request_id}          one call record
//	POST /admin/decision-tokens/decode      open a refusal's decision_token
//	GET  /admin/requests/{id}/explain       why a request was answered so (explain)
//	GET  /admin/audit?action=&kind=&object=&actor=&since=&until=&...   the audit log
//	GET, POST /admin/tenants; GET, PUT, DELETE /admin/tenants/{id};
//	POST /admin/tenants/{id}/suspend|activate (same for /admin/consumers)
//	GET, POST /admin/keys; GET /admin/keys/{id}; POST /admin/keys/{id}/revoke|rotate
//	GET  /admin/quotas?route=&quota=&consumer=|tenant=|credential=|ip=   quota usage now
//	GET  /admin/quotas/history?route=&quota=&consumer=...&since=&limit=  stored counters
//	GET  /admin/stats/summary|series|top?since=&until=&route=&consumer=&code=&...  analytics
//	GET  /admin/ai/usage?from=&to=&consumer=&tenant=&model=&route=&provider=&group_by=  AI usage and cost
func NewHandler(o Options) http.Handler {
	h := &handler{Options: o, log: o.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	// Methods allowed per path, for the 405 answers.
	allow := map[string][]string{}
	public := map[string]bool{}
	var order []string
	for _, e := range h.endpoints() {
		if _, seen := allow[e.path]; !seen {
			order = append(order, e.path)
		}
		allow[e.path] = append(allow[e.path], e.method)
		public[e.path] = e.public
		var serve http.Handler = e.serve
		if !e.public {
			serve = h.authenticate(serve)
		}
		h.mux.Handle(e.method+" "+e.path, serve)
	}
	for _, path := range order {
		if path == "/admin/revisions/current" {
			// Covered by the /admin/revisions/{n} fallback (same methods); a
			// method-less pattern here would conflict with GET /admin/revisions/{n}.
			continue
		}
		var serve http.Handler = methodNotAllowed(allow[path])
		if !public[path] {
			serve = h.authenticate(serve)
		}
		h.mux.Handle(path, serve)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		notFound(w, r, "Endpoint "+truncate(r.URL.Path, 200))
	})
	return h
}

// servePprof dispatches the net/http/pprof handlers under one pattern.
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("name") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
}

func (h *handler) endpoints() []endpoint {
	eps := []endpoint{
		{method: "GET", path: "/healthz", public: true, serve: h.healthz},
		{method: "GET", path: "/readyz", public: true, serve: h.readyz},
		{method: "GET", path: "/admin/version", serve: h.version},
		{method: "GET", path: "/admin/revisions", serve: h.listRevisions},
		{method: "GET", path: "/admin/revisions/current", serve: h.currentRevision},
		{method: "GET", path: "/admin/revisions/{n}", serve: h.getRevision},
		{method: "POST", path: "/admin/revisions/{n}/rollback", serve: h.rollback},
		{method: "POST", path: "/admin/config", serve: h.applyConfig},
		{method: "POST", path: "/admin/config/validate", serve: h.validateConfig},
		{method: "POST", path: "/admin/simulate", serve: h.simulate},
		{method: "GET", path: "/admin/calls", serve: h.listCalls},
		{method: "GET", path: "/admin/calls/{request_id}", serve: h.getCall},
		{method: "POST", path: "/admin/decision-tokens/decode", serve: h.decodeToken},
		{method: "GET", path: "/admin/requests/{id}/explain", serve: h.explainRequest},
		{method: "GET", path: "/admin/ai/usage", serve: h.aiUsage},
	}
	eps = append(eps, endpoint{method: "GET", path: "/admin/audit", serve: h.listAudit})
	if h.Identities != nil {
		eps = append(eps,
			endpoint{method: "GET", path: "/admin/tenants", serve: h.listTenants},
			endpoint{method: "POST", path: "/admin/tenants", serve: h.putTenant},
			endpoint{method: "GET", path: "/admin/tenants/{id}", serve: h.getTenant},
			endpoint{method: "PUT", path: "/admin/tenants/{id}", serve: h.putTenant},
			endpoint{method: "DELETE", path: "/admin/tenants/{id}", serve: h.deleteHandler("tenant", h.Identities.DeleteTenant)},
			endpoint{method: "POST", path: "/admin/tenants/{id}/suspend", serve: h.statusHandler("tenant", identity.StatusSuspended, h.setTenantStatus)},
			endpoint{method: "POST", path: "/admin/tenants/{id}/activate", serve: h.statusHandler("tenant", identity.StatusActive, h.setTenantStatus)},
			endpoint{method: "GET", path: "/admin/consumers", serve: h.listConsumers},
			endpoint{method: "POST", path: "/admin/consumers", serve: h.putConsumer},
			endpoint{method: "GET", path: "/admin/consumers/{id}", serve: h.getConsumer},
			endpoint{method: "PUT", path: "/admin/consumers/{id}", serve: h.putConsumer},
			endpoint{method: "DELETE", path: "/admin/consumers/{id}", serve: h.deleteHandler("consumer", h.Identities.DeleteConsumer)},
			endpoint{method: "POST", path: "/admin/consumers/{id}/suspend", serve: h.statusHandler("consumer", identity.StatusSuspended, h.setConsumerStatus)},
			endpoint{method: "POST", path: "/admin/consumers/{id}/activate", serve: h.statusHandler("consumer", identity.StatusActive, h.setConsumerStatus)},
			endpoint{method: "GET", path: "/admin/keys", serve: h.listKeys},
			endpoint{method: "POST", path: "/admin/keys", serve: h.createKey},
			endpoint{method: "GET", path: "/admin/keys/{id}", serve: h.getKey},
			endpoint{method: "POST", path: "/admin/keys/{id}/revoke", serve: h.revokeKey},
			endpoint{method: "POST", path: "/admin/keys/{id}/rotate", serve: h.rotateKey},
		)
	}
	if h.Stats != nil {
		eps = append(eps,
			endpoint{method: "GET", path: "/admin/stats/summary", serve: h.statsSummary},
			endpoint{method: "GET", path: "/admin/stats/series", serve: h.statsSeries},
			endpoint{method: "GET", path: "/admin/stats/top", serve: h.statsTop},
		)
	}
	if h.Quotas != nil {
		eps = append(eps,
			endpoint{method: "GET", path: "/admin/quotas", serve: h.quotaUsage},
			endpoint{method: "GET", path: "/admin/quotas/history", serve: h.quotaHistory},
		)
	}
	if h.Metrics != nil {
		eps = append(eps, endpoint{method: "GET", path: "/metrics", serve: h.Metrics.ServeHTTP})
	}
	// Go's profiler, behind the admin token like everything else here:
	// fetch e.g. /debug/pprof/profile?seconds=20 with the token and open it
	// with `go tool pprof`.
	eps = append(eps, endpoint{method: "GET", path: "/debug/pprof/{name...}", serve: servePprof})
	return eps
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Admin requests get their own id; a client-sent one is not trusted.
	id := uuid.Must(uuid.NewV7()).String()
	w.Header().Set(requestIDHeader, id)
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type tokenNameKey struct{}

// tokenName is the name of the admin token that authenticated the request;
// it becomes the author of revisions.
func tokenName(ctx context.Context) string {
	name, _ := ctx.Value(tokenNameKey{}).(string)
	return name
}

// HashToken returns the hex SHA-256 of an admin token, the only form in which
// tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// authenticate requires a bearer token whose hash is stored. The token is
// never logged or echoed.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+authRealm+`"`)
			writeProblem(w, r, "admin.unauthorized", nil)
			return
		}
		t, err := h.Store.AdminTokenByHash(r.Context(), HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+authRealm+`", error="invalid_token"`)
			writeProblem(w, r, "admin.unauthorized", nil)
			return
		}
		if err != nil {
			h.storeFailure(w, r, "admin token lookup", err)
			return
		}
		next.ServeHTTP(w, r.WithContext(h.withOrigin(context.WithValue(r.Context(), tokenNameKey{}, t.Name), t.Name)))
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func methodNotAllowed(methods []string) http.Handler {
	allowed := make([]string, 0, len(methods)+1)
	for _, m := range methods {
		allowed = append(allowed, m)
		if m == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	value := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", value)
		writeProblem(w, r, "admin.method_not_allowed", map[string]string{"method": truncate(r.Method, 32)})
	})
}

// Readiness is the body of GET /readyz.
type Readiness struct {
	// Ready is true when the gateway serves a revision and its listeners are up.
	Ready bool `json:"ready"`
	// Revision is the revision being served (0: none yet).
	Revision int64 `json:"revision"`
	// Reason says why the gateway is not ready.
	Reason string `json:"reason,omitempty"`
	// Store is "ok" when the store answered a ping in the last second or
	// so, "unreachable" when it did not: the gateway keeps proxying on the
	// revision it has, but configuration and identity changes cannot be
	// applied. Empty when the store cannot be pinged.
	Store string `json:"store,omitempty"`
	// StoreReason says why the store counts as unreachable. It is generic
	// (the probe is public); the store's own error goes to the log.
	StoreReason string `json:"store_reason,omitempty"`
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 with a plain JSON body rather than a problem, because
// probes only read the status and humans read the reason.
// The store's state does not change readiness: a gateway whose store is down
// still proxies on the revision it has.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	rd := Readiness{Revision: h.Control.Revision()}
	rd.Store, rd.StoreReason = h.probe.check(r.Context(), h.Store, h.log)
	if err := h.Control.Ready(); err != nil {
		rd.Reason = err.Error()
		writeJSON(w, http.StatusServiceUnavailable, rd)
		return
	}
	rd.Ready = true
	writeJSON(w, http.StatusOK, rd)
}

// Store probe timing: a ping waits at most storePingTimeout, and its result
// is reused for storeProbeTTL so frequent probes stay cheap.
const (
	storePingTimeout = 500 * time.Millisecond
	storeProbeTTL    = time.Second
)

// storeProbe pings the store for /readyz and caches the answer. Concurrent
// probes wait for the one ping in progress instead of starting their own.
type storeProbe struct {
	mu     sync.Mutex
	at     time.Time // when the cached answer was taken; zero: none
	state  string
	reason string
}

// check returns the store's state ("ok", "unreachable", or "" when st
// cannot be pinged) and, when unreachable, a reason safe to show anyone.
// Changes of state are logged, with the store's error.
func (p *storeProbe) check(ctx context.Context, st store.Store, log *slog.Logger) (state, reason string) {
	pinger, ok := st.(store.Pinger)
	if !ok {
		return "", ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < storeProbeTTL {
		return p.state, p.reason
	}
	// The ping outlives a probe that gave up, so its answer is cached.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storePingTimeout)
	err := pinger.Ping(pctx)
	cancel()
	state, reason = "ok", ""
	if err != nil {
		state, reason = "unreachable", "the store did not answer a ping; configuration and identity changes cannot be applied"
	}
	if state != p.state {
		if err != nil {
			log.Warn("readyz: the store did not answer a ping", "error", err)
		} else if p.state != "" {
			log.Info("readyz: the store answers again")
		}
	}
	p.at, p.state, p.reason = time.Now(), state, reason
	return state, reason
}

// VersionInfo is the body of GET /admin/version.
type VersionInfo struct {
	// Version of the running gateway.
	Version string `json:"version"`
	// Revision being served.
	Revision int64 `json:"revision"`
	// ConfigFile owns the configuration when set.
	ConfigFile string `json:"config_file,omitempty"`
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, VersionInfo{Version: h.Version, Revision: h.Control.Revision(), ConfigFile: h.ConfigFile})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
