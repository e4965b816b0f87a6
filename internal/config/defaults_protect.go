package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Defaults of the traffic-protection blocks, documented on their types.
const (
	defaultWAFParanoia        = 1
	defaultWAFAnomalyInbound  = 5
	defaultWAFBodyLimit       = 128 << 10
	defaultRedisDialTimeout   = 200 * time.Millisecond
	defaultRedisTimeout       = 100 * time.Millisecond
	defaultRedisKeyPrefix     = "pinpoint:"
	defaultIdempotencyHeader  = "Idempotency-Key"
	defaultIdempotencyTTL     = 24 * time.Hour
	defaultIdempotencyMaxBody = 1 << 20
)

func (c *Config) applyProtectDefaults() {
	w := &c.WAF
	setString(&w.Mode, "enforce")
	setInt(&w.ParanoiaLevel, defaultWAFParanoia)
	setInt(&w.InboundAnomalyThreshold, defaultWAFAnomalyInbound)
	setBool(&w.InspectBody, true)
	setSize(&w.BodyLimit, defaultWAFBodyLimit)
	setString(&w.BodyLimitAction, "process_partial")
	if r := c.Redis; r != nil {
		setDuration(&r.DialTimeout, defaultRedisDialTimeout)
		setDuration(&r.Timeout, defaultRedisTimeout)
		setString(&r.KeyPrefix, defaultRedisKeyPrefix)
	}
	for i := range c.Routes {
		rt := &c.Routes[i]
		for j := range rt.RateLimits {
			l := &rt.RateLimits[j]
			setString(&l.Key, "consumer")
			setString(&l.Store, "local")
			setString(&l.OnStoreError, "fail_open")
			setString(&l.Mode, "enforce")
			if l.Burst == 0 {
				if n, _, err := ParseRate(l.Rate); err == nil {
					l.Burst = n
				}
			}
		}
		for j := range rt.Quotas {
			q := &rt.Quotas[j]
			setString(&q.Key, "consumer")
			setString(&q.PlanField, "plan")
			setString(&q.TimeZone, "UTC")
			setString(&q.Store, "local")
			setString(&q.OnStoreError, "fail_open")
			setString(&q.Mode, "enforce")
		}
		if o := rt.OpenAPI; o != nil {
			setBool(&o.Body, true)
			setBool(&o.Parameters, true)
			setString(&o.UnknownOperation, "deny")
			setString(&o.Mode, "enforce")
		}
		if d := rt.Idempotency; d != nil {
			setString(&d.Header, defaultIdempotencyHeader)
			if len(d.Methods) == 0 {
				d.Methods = []string{"POST"}
			}
			setDuration(&d.TTL, defaultIdempotencyTTL)
			setSize(&d.MaxResponseBytes, defaultIdempotencyMaxBody)
			setString(&d.Store, "local")
			setString(&d.OnStoreError, "fail_open")
		}
	}
}

// InspectsBody reports whether the WAF inspects request bodies (the default).
func (w *WAF) InspectsBody() bool { return w.InspectBody == nil || *w.InspectBody }

// RouteEnabled reports whether the WAF runs on a route with settings rw.
func (w *WAF) RouteEnabled(rw *RouteWAF) bool {
	if rw != nil && rw.Enabled != nil {
		return *rw.Enabled
	}
	return w.Enabled || rw != nil
}

// ValidatesBody reports whether JSON bodies are validated (the default).
func (o *OpenAPI) ValidatesBody() bool { return o.Body == nil || *o.Body }

// ValidatesParameters reports whether parameters are validated (the default).
func (o *OpenAPI) ValidatesParameters() bool { return o.Parameters == nil || *o.Parameters }

// ratePeriods are the units a Rate may be written with.
var ratePeriods = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour,
}

// ParseRate reads a rate such as "10/s", "600/min", "1000/h" or "5/10s"
// into a count and the period it is allowed in.
func ParseRate(s string) (count int, per time.Duration, err error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, errors.New(`write a rate as COUNT/PERIOD, e.g. "10/s", "600/m", "1000/h" or "50000/d"`)
	}
	count, err = strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count <= 0 {
		return 0, 0, errors.New("the count before / must be a positive whole number")
	}
	unit = strings.TrimSpace(unit)
	if d, ok := ratePeriods[unit]; ok {
		return count, d, nil
	}
	d, perr := time.ParseDuration(unit)
	if perr != nil || d <= 0 {
		return 0, 0, errors.New(`the period after / must be s, m, h, d or a duration such as "10s"`)
	}
	if d < time.Millisecond {
		return 0, 0, errors.New("the period must be at least 1ms")
	}
	return count, d, nil
}
