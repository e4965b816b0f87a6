package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxCauses bounds the causes a notification lists.
const maxCauses = 5

// Cause kinds.
const (
	CauseRevision = "revision"
	CauseEvent    = "event"
)

// Cause is a change shortly before an alert's onset that plausibly caused
// it: a config revision, or a key, consumer or tenant event of the audit log.
type Cause struct {
	// Kind is CauseRevision or CauseEvent.
	Kind string `json:"kind"`
	// Time is when the change was committed.
	Time time.Time `json:"time"`
	// Before is how long before the onset it happened.
	Before Duration `json:"before_onset"`
	// Revision is the revision's number (CauseRevision), or the revision in
	// force at the event.
	Revision int64 `json:"revision,omitempty"`
	// Author is who made the change (the revision's author, the event's actor).
	Author string `json:"author,omitempty"`
	// Source is how it arrived ("admin-api", "cli", "file:…").
	Source string `json:"source,omitempty"`
	// Summary is the revision's diff summary, one change per "; ".
	Summary string `json:"summary,omitempty"`
	// Action, ObjectKind and ObjectID name an event ("key.revoked", "key", "pp_live_k7f3").
	Action     string `json:"action,omitempty"`
	ObjectKind string `json:"object_kind,omitempty"`
	ObjectID   string `json:"object_id,omitempty"`
	// Related is set when the event concerns one of the top consumers of
	// the matching requests.
	Related bool `json:"related,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string.
type Duration time.Duration

// MarshalJSON writes "2m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// eventActions are the audit actions that can change who gets through.
var eventActions = []string{"key.*", "consumer.*", "tenant.*"}

// History is what causes are looked up in; store.Store implements it.
type History interface {
	store.Revisions
	store.Audit
}

// FindCauses returns the revisions and key, consumer and tenant events of
// [onset-lookback, onset], the most plausible first: events that concern
// one of the top consumers, and revisions, newest first; then unrelated
// events. consumers are the top consumers of the matching requests.
func FindCauses(ctx context.Context, h History, onset time.Time, lookback time.Duration, consumers []Top) ([]Cause, error) {
	since := onset.Add(-lookback)
	var causes []Cause
	before := int64(0)
	for page := 0; page < 20; page++ {
		revs, err := h.ListRevisions(ctx, 50, before)
		if err != nil {
			return nil, fmt.Errorf("listing revisions: %w", err)
		}
		done := len(revs) < 50
		for _, r := range revs {
			before = r.Number
			if r.CreatedAt.Before(since) {
				done = true
				break
			}
			if r.CreatedAt.After(onset) {
				continue
			}
			causes = append(causes, Cause{
				Kind: CauseRevision, Time: r.CreatedAt, Before: Duration(onset.Sub(r.CreatedAt)),
				Revision: r.Number, Author: r.Author, Source: r.Source, Summary: oneLine(r.Summary),
			})
		}
		if done || before <= 1 {
			break
		}
	}
	top := make(map[string]bool, len(consumers))
	for _, c := range consumers {
		if c.Name != "" {
			top[c.Name] = true
		}
	}
	for _, action := range eventActions {
		entries, err := h.QueryAudit(ctx, store.AuditQuery{Action: action, Since: since, Until: onset.Add(time.Nanosecond), Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("reading audit log: %w", err)
		}
		for _, e := range entries {
			if e.Time.After(onset) || e.Time.Before(since) {
				continue
			}
			causes = append(causes, Cause{
				Kind: CauseEvent, Time: e.Time, Before: Duration(onset.Sub(e.Time)), Revision: e.Revision,
				Author: e.Actor, Source: e.Source, Action: e.Action, ObjectKind: e.ObjectKind, ObjectID: e.ObjectID,
				Related: concerns(e, top),
			})
		}
	}
	slices.SortStableFunc(causes, func(a, b Cause) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), b.Time.Compare(a.Time))
	})
	if len(causes) > maxCauses {
		causes = causes[:maxCauses]
	}
	return causes, nil
}

// rank orders causes by plausibility: related events and revisions first.
func rank(c Cause) int {
	if c.Kind == CauseEvent && !c.Related {
		return 1
	}
	return 0
}

// concerns reports whether an audit entry is about one of the consumers:
// the consumer itself, or a key whose detail names it.
func concerns(e store.AuditEntry, consumers map[string]bool) bool {
	if e.ObjectKind == store.AuditObjectConsumer && consumers[e.ObjectID] {
		return true
	}
	if len(e.Detail) == 0 {
		return false
	}
	var d struct {
		Consumer   string `json:"consumer"`
		ConsumerID string `json:"consumer_id"`
	}
	if json.Unmarshal(e.Detail, &d) != nil {
		return false
	}
	return consumers[d.Consumer] || consumers[d.ConsumerID]
}

// oneLine joins a multi-line revision summary with "; ".
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "; ")
}

// Sentence renders a cause for people: "started 2 min after revision 42
// (alice, admin-api): ~ route orders: authorize.scopes".
func (c Cause) Sentence() string { return c.sentence("started") }

// sentence renders the cause with verb: "cleared 10 s after revision 43 …".
func (c Cause) sentence(verb string) string {
	var b strings.Builder
	b.WriteString(verb)
	b.WriteByte(' ')
	b.WriteString(humanDuration(time.Duration(c.Before)))
	b.WriteString(" after ")
	switch c.Kind {
	case CauseRevision:
		b.WriteString("revision ")
		b.WriteString(strconv.FormatInt(c.Revision, 10))
	default:
		b.WriteString(c.Action)
		if c.ObjectID != "" {
			b.WriteString(" of ")
			b.WriteString(c.ObjectKind)
			b.WriteByte(' ')
			b.WriteString(c.ObjectID)
		}
	}
	if who := joinNonEmpty(", ", c.Author, c.Source); who != "" {
		b.WriteString(" (")
		b.WriteString(who)
		b.WriteByte(')')
	}
	if c.Summary != "" {
		b.WriteString(": ")
		b.WriteString(c.Summary)
	}
	return b.String()
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// humanDuration renders d for a sentence: "40 s", "2 min", "3 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + " min"
	default:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
	}
}
