package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// upstreams checks every upstream and returns their names in order, or nil
// when the upstreams section could not be decoded (references to it are
// then not checked, to avoid a cascade of "unknown upstream" errors).
func (v *validator) upstreams(us []Upstream) []string {
	seen := map[string]string{}
	names := make([]string, 0, len(us))
	for i := range us {
		u := &us[i]
		path := index("upstreams", i)
		if v.unique(path, u.Name, "upstream", seen) {
			names = append(names, u.Name)
		}
		v.targets(path, u.Targets)
		v.balance(path, u)
		v.healthCheck(join(path, "health_check"), &u.HealthCheck)
		v.notNegative(join(path, "pool.max_idle_per_target"), u.Pool.MaxIdlePerTarget, 0)
		v.notNegative(join(path, "pool.max_conns_per_target"), u.Pool.MaxConnsPerTarget, 0)
		cb := &u.CircuitBreaker
		cbPath := join(path, "circuit_breaker")
		if r := cb.FailureRatio; r < 0 || r > 1 {
			v.fail(join(cbPath, "failure_ratio"), "must be greater than 0 and at most 1, got "+formatFloat(r))
		}
		v.notNegative(join(cbPath, "min_requests"), cb.MinRequests, 0)
		v.notNegative(join(cbPath, "half_open_requests"), cb.HalfOpenRequests, 0)
		rPath := join(path, "retry")
		v.notNegative(join(rPath, "attempts"), u.Retry.Attempts, -1)
		if r := u.Retry.BudgetRatio; r < 0 || r > 1 {
			v.fail(join(rPath, "budget_ratio"), "must be between 0 and 1, got "+formatFloat(r))
		}
		v.notNegative(join(rPath, "min_per_second"), u.Retry.MinPerSecond, 0)
	}
	for p := range v.d.broken {
		if strings.HasPrefix(p, "upstreams") {
			return nil
		}
	}
	return names
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// targets checks URLs and weights. An explicit "weight: 0" drains a target;
// an upstream whose targets are all drained could serve nothing.
func (v *validator) targets(path string, ts []Target) {
	tPath := join(path, "targets")
	if len(ts) == 0 {
		v.required(tPath, `at least one target, e.g. - url: "http://10.0.0.5:8080"`)
		return
	}
	zero := 0
	for i, t := range ts {
		p := index(tPath, i)
		v.targetURL(join(p, "url"), t.URL)
		wPath := join(p, "weight")
		switch {
		case t.Weight < 0:
			v.fail(wPath, "must not be negative, got "+strconv.Itoa(t.Weight))
		case t.Weight == 0 && v.d.explicit(wPath) && !v.d.isBroken(wPath):
			zero++
		}
	}
	if zero == len(ts) {
		v.fail(tPath, "every target has weight 0, so none would get traffic")
	}
}

// targetURL checks an absolute http(s) URL with a host and no query or
// fragment. Credentials in the URL are refused (and never echoed).
func (v *validator) targetURL(path, raw string) {
	if raw == "" {
		v.required(path, `scheme://host:port, e.g. "http://10.0.0.5:8080"`)
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		v.failValue(path, raw, fmt.Sprintf("invalid URL %q", raw))
		return
	}
	shown := raw
	if u.User != nil {
		shown = u.Redacted()
	}
	var problem string
	switch {
	case u.User != nil:
		problem = "must not contain credentials; send them with headers.request.set on the route"
	case u.Scheme != "http" && u.Scheme != "https":
		problem = "must start with http:// or https://"
	case u.Host == "" || u.Hostname() == "":
		problem = "must name a host"
	case u.RawQuery != "" || u.ForceQuery:
		problem = "must not have a query"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		problem = "must not have a fragment"
	}
	if problem == "" && u.Port() != "" {
		if n, perr := strconv.Atoi(u.Port()); perr != nil || n < 1 || n > 65535 {
			problem = "has an invalid port"
		}
	}
	if problem != "" {
		v.failValue(path, shown, fmt.Sprintf("target URL %q %s", shown, problem))
	}
}

// balance checks the balancing algorithm and its hash key.
func (v *validator) balance(path string, u *Upstream) {
	switch u.Balance {
	case "", "round_robin", "least_connections", "consistent_hash", "random":
	default:
		v.failValue(join(path, "balance"), u.Balance, fmt.Sprintf(
			`invalid balance %q: use "round_robin", "least_connections", "consistent_hash" or "random"`, u.Balance))
	}
	hashPath := join(path, "hash_on")
	switch {
	case u.HashOn == "" || u.HashOn == "ip" || u.HashOn == "path":
	case strings.HasPrefix(u.HashOn, "header:"):
		if name := strings.TrimPrefix(u.HashOn, "header:"); !isToken(name) {
			v.failValue(hashPath, u.HashOn, fmt.Sprintf("invalid header name in hash_on %q", u.HashOn))
		}
	default:
		v.failValue(hashPath, u.HashOn, fmt.Sprintf(`invalid hash_on %q: use "ip", "path" or "header:NAME"`, u.HashOn))
	}
}

func (v *validator) healthCheck(path string, h *HealthCheck) {
	aPath := join(path, "active")
	a := &h.Active
	if a.Path != "" && !strings.HasPrefix(a.Path, "/") {
		v.failValue(join(aPath, "path"), a.Path, fmt.Sprintf(`probe path %q must start with "/"`, a.Path))
	}
	v.notNegative(join(aPath, "healthy_threshold"), a.HealthyThreshold, 0)
	v.notNegative(join(aPath, "unhealthy_threshold"), a.UnhealthyThreshold, 0)
	for i, s := range a.ExpectedStatus {
		if s < 100 || s > 599 {
			v.fail(index(join(aPath, "expected_status"), i), "must be an HTTP status from 100 to 599, got "+strconv.Itoa(s))
		}
	}
	v.notNegative(join(path, "passive.consecutive_failures"), h.Passive.ConsecutiveFailures, -1)
}
