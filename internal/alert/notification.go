package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/redact"
)

// Alert states.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Notification is the JSON body POSTed to webhooks (docs/alerts.md).
type Notification struct {
	// Rule and Description name the rule.
	Rule        string `json:"rule"`
	Description string `json:"description,omitempty"`
	// State is StateFiring or StateResolved.
	State string `json:"state"`
	// Reminder is set on repeated firing notifications (one per cooldown).
	Reminder bool `json:"reminder,omitempty"`
	// Summary is the whole notification as one or two sentences.
	Summary string `json:"summary"`
	// Measure says what Value is ("share" or "count"), Subject what is
	// measured ("share of requests with status 403 on route orders").
	Measure string `json:"measure"`
	Subject string `json:"subject"`
	// Value is the observed measure, Threshold the rule's.
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Matched and Requests are the counts behind Value.
	Matched  int64 `json:"matched"`
	Requests int64 `json:"requests"`
	// MinRequests is the rule's min_requests.
	MinRequests int `json:"min_requests,omitempty"`
	// Window is the rule's window; WindowStart and WindowEnd bound the
	// minute buckets that were summed.
	Window      Duration  `json:"window"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Onset is when the alert started firing; ResolvedAt when it cleared.
	Onset      time.Time  `json:"onset"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Revision is the config revision being served when the notification
	// was made.
	Revision int64 `json:"revision"`
	// Node is the gateway node that sent it.
	Node string `json:"node,omitempty"`
	// TopCodes, TopConsumers and TopRoutes break down the matching requests
	// of the window (for a resolved alert: of its last firing window).
	TopCodes     []Top `json:"top_codes"`
	TopConsumers []Top `json:"top_consumers"`
	TopRoutes    []Top `json:"top_routes"`
	// Causes are the changes in the cause window before the onset, the
	// most plausible first; LikelyCause renders the first as a sentence.
	Causes      []Cause `json:"causes"`
	LikelyCause string  `json:"likely_cause,omitempty"`
	// ResolvedAfter are the changes between the onset and the resolution
	// (resolved notifications), newest first; LikelyFix renders the first.
	ResolvedAfter []Cause `json:"resolved_after,omitempty"`
	LikelyFix     string  `json:"likely_fix,omitempty"`
	// AuditSeq is the audit log entry that recorded the notification.
	AuditSeq int64 `json:"audit_seq,omitempty"`
}

// summarize fills Summary and LikelyCause, passing free text through the
// redaction policy (revision summaries and descriptions are operator
// text and could quote a secret by mistake).
func (n *Notification) summarize(p *redact.Policy) {
	n.Description = p.Text(n.Description)
	for _, cs := range [][]Cause{n.Causes, n.ResolvedAfter} {
		for i := range cs {
			cs[i].Summary = p.Text(cs[i].Summary)
		}
	}
	if len(n.Causes) > 0 {
		n.LikelyCause = n.Causes[0].Sentence()
	}
	if len(n.ResolvedAfter) > 0 {
		n.LikelyFix = n.ResolvedAfter[0].sentence("cleared")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s is %s (threshold %s", n.Rule, n.State, n.Subject, n.formatValue(n.Value), n.formatValue(n.Threshold))
	if n.MinRequests > 0 {
		fmt.Fprintf(&b, ", at least %d requests", n.MinRequests)
	}
	fmt.Fprintf(&b, ") over %s: %d of %d requests", time.Duration(n.Window), n.Matched, n.Requests)
	if len(n.TopCodes) > 0 && n.TopCodes[0].Name != "" {
		fmt.Fprintf(&b, "; top code %s", n.TopCodes[0].Name)
	}
	if len(n.TopConsumers) > 0 && n.TopConsumers[0].Name != "" {
		fmt.Fprintf(&b, ", top consumer %s", n.TopConsumers[0].Name)
	}
	b.WriteString(".")
	for _, s := range []string{n.LikelyCause, n.LikelyFix} {
		if s != "" {
			b.WriteString(" It ")
			b.WriteString(s)
			b.WriteString(".")
		}
	}
	n.Summary = b.String()
}

// formatValue renders a share as a percentage, a count as an integer.
func (n *Notification) formatValue(v float64) string {
	if n.Measure == MeasureShare {
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
