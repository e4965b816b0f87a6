package config

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wafRuleID is a CRS rule id or an inclusive range of them.
var wafRuleID = regexp.MustCompile(`^[0-9]{1,9}(-[0-9]{1,9})?$`)

// protect checks the redis and waf blocks and each route's rate_limits,
// quotas, openapi and idempotency.
func (v *validator) protect(c *Config) {
	if r := c.Redis; r != nil {
		v.redis(r)
	}
	v.waf("waf", &c.WAF)
	for i := range c.Routes {
		path := index("routes", i)
		rt := &c.Routes[i]
		if w := rt.WAF; w != nil {
			wp := join(path, "waf")
			v.mode(join(wp, "mode"), w.Mode)
			v.paranoia(join(wp, "paranoia_level"), w.ParanoiaLevel)
			v.notNegative(join(wp, "inbound_anomaly_threshold"), w.InboundAnomalyThreshold, 0)
			v.exclusions(join(wp, "exclusions"), w.Exclusions)
		}
		seen := map[string]string{}
		for j := range rt.RateLimits {
			v.rateLimit(index(join(path, "rate_limits"), j), &rt.RateLimits[j], c.Redis != nil, seen)
		}
		for j := range rt.Quotas {
			v.quota(index(join(path, "quotas"), j), &rt.Quotas[j], c.Redis != nil, seen)
		}
		if o := rt.OpenAPI; o != nil {
			op := join(path, "openapi")
			if o.Spec == "" {
				v.required(join(op, "spec"), "the path of the OpenAPI document")
			}
			v.oneOf(join(op, "unknown_operation"), o.UnknownOperation, "unknown_operation", "deny", "allow")
			v.mode(join(op, "mode"), o.Mode)
		}
		if d := rt.Idempotency; d != nil {
			v.idempotency(join(path, "idempotency"), d, c.Redis != nil)
		}
	}
}

func (v *validator) redis(r *Redis) {
	if r.URL == "" {
		v.required("redis.url", `the server, e.g. "redis://127.0.0.1:6379/0"`)
		return
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") || (u.Scheme != "unix" && u.Host == ""):
		v.failValue("redis.url", r.URL, fmt.Sprintf(`invalid Redis URL %q: use redis://host:port/db, rediss://… for TLS, or unix:///path`, r.URL))
	case u.User != nil:
		if _, hasPassword := u.User.Password(); hasPassword {
			v.fromEnv("redis.url", r.URL, "a Redis URL with a password")
		}
	}
	v.notNegative("redis.pool_size", r.PoolSize, 0)
}

func (v *validator) waf(path string, w *WAF) {
	v.mode(join(path, "mode"), w.Mode)
	v.paranoia(join(path, "paranoia_level"), w.ParanoiaLevel)
	v.notNegative(join(path, "inbound_anomaly_threshold"), w.InboundAnomalyThreshold, 0)
	v.oneOf(join(path, "body_limit_action"), w.BodyLimitAction, "body_limit_action", "process_partial", "reject")
	if w.BodyLimit < 0 {
		v.fail(join(path, "body_limit"), "must not be negative")
	}
	v.exclusions(join(path, "exclusions"), w.Exclusions)
	for i, d := range w.Directives {
		if strings.TrimSpace(d) == "" {
			v.fail(index(join(path, "directives"), i), "empty directive")
		}
	}
}

func (v *validator) paranoia(path string, n int) {
	if n < 0 || n > 4 {
		v.fail(path, fmt.Sprintf("paranoia level must be 1 to 4, got %d", n))
	}
}

func (v *validator) exclusions(path string, es []WAFExclusion) {
	for i, e := range es {
		ep := index(path, i)
		if len(e.RuleIDs) == 0 && len(e.Tags) == 0 {
			v.required(ep, "rule_ids or tags: the rules this exclusion applies to")
		}
		for j, id := range e.RuleIDs {
			if !wafRuleID.MatchString(id) {
				v.failValue(index(join(ep, "rule_ids"), j), id, fmt.Sprintf(`invalid rule id %q: a number (942100) or a range ("942100-942999")`, id))
			}
		}
		for j, t := range e.Targets {
			if t == "" || strings.ContainsAny(t, " \t\"'") {
				v.failValue(index(join(ep, "targets"), j), t, fmt.Sprintf(`invalid target %q: a SecLang variable such as "ARGS:comment" or "REQUEST_COOKIES:session"`, t))
			}
		}
		for j, t := range e.Tags {
			if t == "" || strings.ContainsAny(t, " \t\"'") {
				v.failValue(index(join(ep, "tags"), j), t, fmt.Sprintf("invalid tag %q", t))
			}
		}
	}
}

// limitKey checks a rate limit or quota key against the allowed kinds.
func (v *validator) limitKey(path, key string, kinds ...string) {
	if key == "" {
		return
	}
	if name, ok := strings.CutPrefix(key, "header:"); ok && slices.Contains(kinds, "header") {
		v.headerName(path, name)
		return
	}
	if !slices.Contains(kinds, key) {
		shown := make([]string, len(kinds))
		for i, k := range kinds {
			shown[i] = strconv.Quote(k)
			if k == "header" {
				shown[i] = `"header:NAME"`
			}
		}
		v.failValue(path, key, fmt.Sprintf("invalid key %q: use %s", key, strings.Join(shown, ", ")))
	}
}

func (v *validator) counterStore(path, store string, haveRedis bool) {
	v.oneOf(join(path, "store"), store, "store", "local", "redis")
	if store == "redis" && !haveRedis {
		v.fail(join(path, "store"), `store "redis" needs the top-level redis block (redis: {url: …})`)
	}
}

func (v *validator) rateLimit(path string, l *RateLimit, haveRedis bool, seen map[string]string) {
	v.unique(path, l.Name, "rate limit or quota", seen)
	if l.Rate == "" {
		v.required(join(path, "rate"), `requests per period, e.g. "10/s" or "1000/h"`)
	} else if _, _, err := ParseRate(l.Rate); err != nil {
		v.failValue(join(path, "rate"), l.Rate, fmt.Sprintf("invalid rate %q: %v", l.Rate, err))
	}
	v.notNegative(join(path, "burst"), l.Burst, 0)
	v.limitKey(join(path, "key"), l.Key, "consumer", "credential", "ip", "route", "tenant", "header")
	v.counterStore(path, l.Store, haveRedis)
	v.oneOf(join(path, "on_store_error"), l.OnStoreError, "on_store_error", "fail_open", "fail_closed")
	v.mode(join(path, "mode"), l.Mode)
}

func (v *validator) quota(path string, q *Quota, haveRedis bool, seen map[string]string) {
	v.unique(path, q.Name, "rate limit or quota", seen)
	if q.Period == "" {
		v.required(join(path, "period"), `"day" or "month"`)
	} else {
		v.oneOf(join(path, "period"), q.Period, "period", "day", "month")
	}
	switch {
	case q.Limit < 0:
		v.fail(join(path, "limit"), "must not be negative")
	case q.Limit == 0 && len(q.Plans) == 0:
		v.required(join(path, "limit"), "the number of requests per period")
	}
	for plan, n := range q.Plans {
		if n <= 0 {
			v.fail(join(join(path, "plans"), plan), fmt.Sprintf("plan %q needs a positive limit, got %d", plan, n))
		}
	}
	if q.TimeZone != "" {
		if _, err := time.LoadLocation(q.TimeZone); err != nil {
			v.failValue(join(path, "time_zone"), q.TimeZone, fmt.Sprintf(`unknown time zone %q: use an IANA name such as "UTC" or "Europe/Berlin"`, q.TimeZone))
		}
	}
	v.limitKey(join(path, "key"), q.Key, "consumer", "tenant", "credential")
	v.counterStore(path, q.Store, haveRedis)
	v.oneOf(join(path, "on_store_error"), q.OnStoreError, "on_store_error", "fail_open", "fail_closed")
	v.mode(join(path, "mode"), q.Mode)
}

func (v *validator) idempotency(path string, d *Idempotency, haveRedis bool) {
	if d.Header != "" {
		v.headerName(join(path, "header"), d.Header)
	}
	for i, m := range d.Methods {
		switch strings.ToUpper(m) {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			d.Methods[i] = strings.ToUpper(m)
		default:
			v.failValue(index(join(path, "methods"), i), m, fmt.Sprintf("invalid method %q: idempotency keys apply to POST, PUT, PATCH or DELETE", m))
		}
	}
	if d.TTL < 0 {
		v.fail(join(path, "ttl"), "must not be negative")
	}
	if d.MaxResponseBytes < 0 {
		v.fail(join(path, "max_response_bytes"), "must not be negative")
	}
	v.counterStore(path, d.Store, haveRedis)
	v.oneOf(join(path, "on_store_error"), d.OnStoreError, "on_store_error", "fail_open", "fail_closed")
}

// oneOf checks an enumerated value; "" (the default) is always allowed.
func (v *validator) oneOf(path, value, field string, allowed ...string) {
	if value == "" || slices.Contains(allowed, value) {
		return
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	msg := fmt.Sprintf("invalid %s %q: use %s", field, value, strings.Join(quoted, " or "))
	if s, ok := closest(value, allowed); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.failValue(path, value, msg)
}
