// Package audit writes Pinpoint's audit log: who changed what, through
// which door, in which admin request. The log itself lives in the store
// (store.Audit, append-only); this package carries the origin of a change
// through a context and appends entries for the code that made it.
//
// The admin API puts an Origin (the admin token's name, "admin-api", the
// request id, the revision being served) into every authenticated
// request's context; the identity service and the gateway's apply read it
// back when they record what they changed. An entry that cannot be stored
// is logged and counted (pinpoint_audit_write_failures_total) but does not
// undo the change it describes: the change is already committed.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// SourceAdminAPI is the Source of changes made through the admin API (and
// so through the CLI, which calls it).
const SourceAdminAPI = "admin-api"

// writeTimeout bounds one append. The append runs detached from the
// caller's context: an admin client that hangs up after its change was
// committed must not lose the change's entry.
const writeTimeout = 10 * time.Second

// Origin says who is making the changes of a request and how they arrive.
type Origin struct {
	// Actor is the admin token's name, the OS user of a file apply, or
	// store.AuditSystemActor.
	Actor string
	// Source is how the change arrives: "admin-api", "file:/etc/pinpoint.yaml".
	Source string
	// RequestID is the admin request's id (its X-Request-Id answer header).
	RequestID string
	// Revision is the configuration revision being served.
	Revision int64
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the Origin ctx carries (zero when none).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Recorder appends entries to the audit log. A nil Recorder, or one
// without a Store, records nothing. It is safe for concurrent use.
type Recorder struct {
	// Store is the audit log.
	Store store.Audit
	// Log receives the entries that could not be stored. Nil: discard.
	Log *slog.Logger
	// Redact is applied to every entry's Detail, a second line of defence
	// behind the callers that never put a secret there (a reason text an
	// operator typed may still hold one). Nil: redact.Default().
	Redact *redact.Policy

	written atomic.Uint64
	failed  atomic.Uint64
}

// Record fills each entry's Actor, Source, RequestID and Revision from
// ctx's Origin where they are empty (Actor "system" when there is none),
// redacts its Detail and appends the entries in one transaction. A failure
// is logged and counted, and returned for callers that retry (the expiry
// watcher); callers whose change is already committed may ignore it.
func (r *Recorder) Record(ctx context.Context, entries ...store.AuditEntry) error {
	if r == nil || r.Store == nil || len(entries) == 0 {
		return nil
	}
	o := OriginFrom(ctx)
	policy := r.Redact
	if policy == nil {
		policy = defaultPolicy
	}
	for i := range entries {
		e := &entries[i]
		if e.Actor == "" {
			e.Actor = o.Actor
		}
		if e.Actor == "" {
			e.Actor = store.AuditSystemActor
		}
		if e.Source == "" {
			e.Source = o.Source
		}
		if e.RequestID == "" {
			e.RequestID = o.RequestID
		}
		if e.Revision == 0 {
			e.Revision = o.Revision
		}
		if len(e.Detail) > 0 {
			e.Detail = policy.JSON(e.Detail)
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := r.Store.AppendAudit(wctx, entries); err != nil {
		r.failed.Add(uint64(len(entries)))
		if r.Log != nil {
			for _, e := range entries {
				r.Log.ErrorContext(ctx, "audit entry not stored; the change itself was made",
					"action", e.Action, "object", e.ObjectKind+":"+e.ObjectID, "actor", e.Actor,
					"request_id", e.RequestID, "error", err.Error())
			}
		}
		return err
	}
	r.written.Add(uint64(len(entries)))
	return nil
}

var defaultPolicy = redact.Default()

// Written is how many entries were appended (deduplicated ones included).
func (r *Recorder) Written() uint64 { return r.written.Load() }

// Failed is how many entries could not be stored.
func (r *Recorder) Failed() uint64 { return r.failed.Load() }

// Collectors returns the recorder's Prometheus counters, for registering
// on the gateway's registry.
func (r *Recorder) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_audit_entries_written_total",
			Help: "Audit log entries appended by this process.",
		}, func() float64 { return float64(r.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "pinpoint_audit_write_failures_total",
			Help: "Audit log entries that could not be stored (the changes they describe were made; see the server log).",
		}, func() float64 { return float64(r.Failed()) }),
	}
}

// Detail encodes v (usually a map or a struct) as an entry's Detail. A
// value that cannot be encoded yields an object saying so rather than
// losing the entry.
func Detail(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"detail_error": err.Error()})
	}
	return b
}
