package limit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/quota"
)

// rateLimit is one compiled routes[].rate_limits entry.
type rateLimit struct {
	name, rate, rule string
	key              keySpec
	limit            gcra.Limit
	// localID identifies the limit in the local store, and stableID in
	// Redis (the same on every node): both hash route, name and rate, so a
	// reload of the same config keeps counting while a changed rate starts
	// fresh.
	localID    gcra.LimitID
	stableID   string
	redis      bool
	failClosed bool
	enforce    bool
	// Precomputed texts, so a request that passes allocates none.
	notes        [kindCount]string
	fallbackNote string
	sfName       string // the name as a structured-field string
	policy       string // this limit's RateLimit-Policy member
	burst        string // X-RateLimit-Limit
	shape        string // "10/s, burst 20" for reasons
}

// quotaLimit is one compiled routes[].quotas entry.
type quotaLimit struct {
	name, rule   string
	period       *quota.Period
	limit        int64
	plans        map[string]int64
	planField    string
	key          keySpec
	stableID     string
	redis        bool
	failClosed   bool
	enforce      bool
	notes        [kindCount]string
	fallbackNote string
}

// stableID is a short hash of parts, the same on every node and restart.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func compileRate(route string, i int, c *config.RateLimit, local *gcra.Store) (rateLimit, error) {
	at := "rate_limits[" + strconv.Itoa(i) + "]"
	var errs []error
	l := rateLimit{name: c.Name, rate: strings.TrimSpace(c.Rate), rule: "rate_limits." + c.Name}
	if c.Name == "" {
		errs = append(errs, config.Fieldf(at+".name", "required: every rate limit needs a name"))
	}
	count, per, err := config.ParseRate(c.Rate)
	if err != nil {
		errs = append(errs, config.Fieldf(at+".rate", "invalid rate %q: %v", c.Rate, err))
	} else if l.limit, err = gcra.NewLimit(count, per, c.Burst); err != nil {
		errs = append(errs, config.Fieldf(at+".rate", "%v", err))
	}
	var ok bool
	if l.key, ok = parseKey(c.Key, kindConsumer, kindCredential, kindIP, kindRoute, kindTenant, kindHeader); !ok {
		errs = append(errs, config.Fieldf(at+".key", `invalid key %q: use "consumer", "credential", "ip", "route", "tenant" or "header:NAME"`, c.Key))
	}
	l.redis, l.failClosed, l.enforce, err = storeMode(at, c.Store, c.OnStoreError, c.Mode)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return l, errors.Join(errs...)
	}
	l.localID = local.LimitID(route, c.Name, l.rate)
	l.stableID = stableID(route, c.Name, l.rate)
	l.notes = fallbackNotes(c.Name, l.key)
	l.fallbackNote = c.Name + ": redis unavailable: local fallback"
	window := max(1, int64((l.limit.Tolerance()+time.Second-1)/time.Second))
	l.sfName = sfString(c.Name)
	l.policy = l.sfName + ";q=" + strconv.FormatInt(l.limit.Burst, 10) + ";w=" + strconv.FormatInt(window, 10)
	l.burst = strconv.FormatInt(l.limit.Burst, 10)
	l.shape = l.rate + ", burst " + l.burst
	return l, nil
}

func compileQuota(route string, i int, c *config.Quota) (quotaLimit, error) {
	at := "quotas[" + strconv.Itoa(i) + "]"
	var errs []error
	q := quotaLimit{name: c.Name, rule: "quotas." + c.Name, limit: c.Limit, plans: c.Plans, planField: c.PlanField}
	if c.Name == "" {
		errs = append(errs, config.Fieldf(at+".name", "required: every quota needs a name"))
	}
	if q.planField == "" {
		q.planField = "plan"
	}
	var err error
	switch {
	case c.Period != "day" && c.Period != "month":
		errs = append(errs, config.Fieldf(at+".period", `invalid period %q: use "day" or "month"`, c.Period))
	default:
		if q.period, err = quota.NewPeriod(c.Period, c.TimeZone); err != nil {
			errs = append(errs, config.Fieldf(at+".time_zone", "%v", err))
		}
	}
	if c.Limit < 0 {
		errs = append(errs, config.Fieldf(at+".limit", "must not be negative"))
	}
	if c.Limit == 0 && len(c.Plans) == 0 {
		errs = append(errs, config.Fieldf(at+".limit", "required: the number of requests per period"))
	}
	for plan, n := range c.Plans {
		if n <= 0 {
			errs = append(errs, config.Fieldf(at+".plans."+plan, "plan %q needs a positive limit, got %d", plan, n))
		}
	}
	var ok bool
	if q.key, ok = parseKey(c.Key, kindConsumer, kindTenant, kindCredential); !ok {
		errs = append(errs, config.Fieldf(at+".key", `invalid key %q: use "consumer", "tenant" or "credential"`, c.Key))
	}
	q.redis, q.failClosed, q.enforce, err = storeMode(at, c.Store, c.OnStoreError, c.Mode)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return q, errors.Join(errs...)
	}
	q.stableID = stableID(route, c.Name)
	q.notes = fallbackNotes(c.Name, q.key)
	q.fallbackNote = c.Name + ": redis unavailable: admitted uncounted (fail_open)"
	return q, nil
}

// storeMode reads store, on_store_error and mode ("" is each default).
func storeMode(at, st, onErr, mode string) (redis, failClosed, enforce bool, err error) {
	var errs []error
	switch st {
	case "", "local":
	case "redis":
		redis = true
	default:
		errs = append(errs, config.Fieldf(at+".store", `invalid store %q: use "local" or "redis"`, st))
	}
	switch onErr {
	case "", "fail_open":
	case "fail_closed":
		failClosed = true
	default:
		errs = append(errs, config.Fieldf(at+".on_store_error", `invalid on_store_error %q: use "fail_open" or "fail_closed"`, onErr))
	}
	switch mode {
	case "", "enforce":
		enforce = true
	case "report_only":
	default:
		errs = append(errs, config.Fieldf(at+".mode", `invalid mode %q: use "enforce" or "report_only"`, mode))
	}
	return redis, failClosed, enforce, errors.Join(errs...)
}

// sfString writes s as a structured-field string (RFC 9651): quoted, with
// " and \ escaped; a byte outside printable ASCII, which a string cannot
// hold, becomes '?'.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
