package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/problem"
)

// Alert defaults documented on the schema types.
const (
	defaultAlertEvaluateEvery = 30 * time.Second
	defaultAlertCauseWindow   = 15 * time.Minute
	defaultAlertWindow        = 5 * time.Minute
	defaultAlertCooldown      = time.Hour
	defaultWebhookTimeout     = 5 * time.Second
	defaultWebhookRetries     = 3
	defaultWebhookBackoff     = time.Second
	defaultWebhookQueueSize   = 100
)

// alerts validates the alerts block: rules refer to existing routes and
// webhooks, thresholds are complete, and webhook URLs and headers are sound.
func (v *validator) alerts(path string, a *Alerts, c *Config) {
	hooks := map[string]string{}
	for i := range a.Webhooks {
		v.webhook(index(join(path, "webhooks"), i), &a.Webhooks[i], hooks)
	}
	routes := make([]string, 0, len(c.Routes))
	for _, r := range c.Routes {
		routes = append(routes, r.Name)
	}
	seen := map[string]string{}
	for i := range a.Rules {
		v.alertRule(index(join(path, "rules"), i), &a.Rules[i], seen, routes, hooks)
	}
}

func (v *validator) alertRule(path string, r *AlertRule, seen map[string]string, routes []string, hooks map[string]string) {
	v.unique(path, r.Name, "alert rule", seen)
	if r.Route != "" && !slices.Contains(routes, r.Route) {
		v.failValue(join(path, "route"), r.Route, unknownName("route", r.Route, routes))
	}
	switch {
	case r.ShareAbove == nil && r.CountAbove == nil:
		v.required(join(path, "share_above"), `a threshold: share_above (e.g. "5%") or count_above (e.g. 0)`)
	case r.ShareAbove != nil && r.CountAbove != nil:
		v.fail(join(path, "count_above"), "give share_above or count_above, not both")
	}
	if r.CountAbove != nil {
		v.notNegative(join(path, "count_above"), *r.CountAbove, 0)
	}
	v.notNegative(join(path, "min_requests"), r.MinRequests, 0)
	if w := r.Window.D(); w != 0 && w < time.Minute {
		v.fail(join(path, "window"), "must be at least 1m (roll-ups are kept per minute), got "+w.String())
	}
	v.alertMatch(join(path, "match"), &r.Match)
	names := slices.Sorted(maps.Keys(hooks))
	for i, name := range r.Webhooks {
		if _, ok := hooks[name]; !ok {
			v.failValue(index(join(path, "webhooks"), i), name, unknownName("webhook", name, names))
		}
	}
}

// unknownName is the message for a reference to an undefined object.
func unknownName(what, name string, names []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s, ok := closest(name, names); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

func (v *validator) alertMatch(path string, m *AlertMatch) {
	if m.Status != "" {
		if _, _, ok := ParseStatusMatch(m.Status); !ok {
			v.failValue(join(path, "status"), m.Status,
				fmt.Sprintf(`invalid status %q: use an exact status ("403") or a class ("4xx")`, m.Status))
		}
	}
	if m.Code != "" {
		family, wildcard := strings.CutSuffix(m.Code, ".*")
		known := false
		for _, c := range problem.All() {
			if wildcard && problem.Family(c.Code) == family || !wildcard && c.Code == m.Code {
				known = true
				break
			}
		}
		if !known {
			v.failValue(join(path, "code"), m.Code,
				fmt.Sprintf(`unknown reason code %q (see docs/reason-codes.md; a family is written "authz.*")`, m.Code))
		}
	}
	if m.WouldDeny && (m.Status != "" || m.UpstreamError) {
		v.fail(join(path, "would_deny"), "would-be refusals have no status or upstream; match them by rule, code or stage")
	}
}

// ParseStatusMatch parses an alert status match: an exact status ("403",
// class 0) or a class ("4xx", status 0).
func ParseStatusMatch(s string) (status, class int, ok bool) {
	if len(s) == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X') {
		if s[0] >= '1' && s[0] <= '5' {
			return 0, int(s[0] - '0'), true
		}
		return 0, 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, false
	}
	return n, 0, true
}

func (v *validator) webhook(path string, w *Webhook, seen map[string]string) {
	v.unique(path, w.Name, "webhook", seen)
	uPath := join(path, "url")
	switch u, err := url.Parse(w.URL); {
	case w.URL == "":
		v.required(uPath, `the receiver's URL, e.g. "https://hooks.example.com/pinpoint"`)
	case err != nil:
		v.fail(uPath, "invalid URL "+strconv.Quote(v.display(uPath, w.URL)))
	case u.Scheme != "http" && u.Scheme != "https":
		v.fail(uPath, "must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		v.fail(uPath, "must name a host")
	case u.User != nil:
		v.fail(uPath, "must not contain credentials; send them with headers (as ${ENV} references)")
	}
	for name := range w.Headers {
		v.headerKey(mapKey(join(path, "headers"), name), name)
	}
	v.notNegative(join(path, "retries"), w.Retries, -1)
	v.notNegative(join(path, "queue_size"), w.QueueSize, 0)
}

func (a *Alerts) applyDefaults() {
	setDuration(&a.EvaluateEvery, defaultAlertEvaluateEvery)
	setDuration(&a.CauseWindow, defaultAlertCauseWindow)
	for i := range a.Rules {
		r := &a.Rules[i]
		setDuration(&r.Window, defaultAlertWindow)
		setDuration(&r.Cooldown, defaultAlertCooldown)
	}
	for i := range a.Webhooks {
		w := &a.Webhooks[i]
		setDuration(&w.Timeout, defaultWebhookTimeout)
		setInt(&w.Retries, defaultWebhookRetries)
		setDuration(&w.Backoff, defaultWebhookBackoff)
		setInt(&w.QueueSize, defaultWebhookQueueSize)
	}
}
