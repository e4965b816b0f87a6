package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds the checks and row arithmetic both store implementations
// of observe.go's interfaces share, so they refuse and merge alike.

// MergeLatency combines two serialized latency sketches with merge. An empty
// side is no sketch: the other side is the result and merge is not called;
// so is old when merge is nil.
func MergeLatency(old, new []byte, merge func(old, new []byte) []byte) []byte {
	switch {
	case len(new) == 0:
		return old
	case len(old) == 0:
		return new
	case merge == nil:
		return old
	}
	return merge(old, new)
}

// CoalesceRollups merges rows with equal keys (counts and sums add, latency
// sketches merge in order) and returns one row per key, in the order of each
// key's first row. rows is not modified. Stores call it before writing a
// batch, so each stored row is read and written once per transaction.
func CoalesceRollups(rows []Rollup, merge func(old, new []byte) []byte) []Rollup {
	out := make([]Rollup, 0, len(rows))
	at := make(map[RollupKey]int, len(rows))
	for _, r := range rows {
		k := r.Key()
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		o := &out[i]
		o.Count += r.Count
		o.UpstreamErrors += r.UpstreamErrors
		o.LatencySum += r.LatencySum
		o.Latency = MergeLatency(o.Latency, r.Latency, merge)
	}
	return out
}

// CheckRollup reports why r cannot be stored: an unknown level or a missing
// kind or bucket.
func CheckRollup(r *Rollup) error {
	switch r.Level {
	case LevelMinute, LevelHour, LevelDay:
	default:
		return fmt.Errorf("rollup level %q is not minute, hour or day", r.Level)
	}
	if r.Kind == "" {
		return errors.New("rollup kind is empty")
	}
	if r.Bucket.IsZero() {
		return errors.New("rollup bucket is not set")
	}
	return nil
}

// CheckAuditEntry reports why e cannot be appended: no action, actor or
// object kind, or a Detail that is not a JSON object.
func CheckAuditEntry(e *AuditEntry) error {
	if e.Action == "" || e.Actor == "" || e.ObjectKind == "" {
		return errors.New("audit entry needs an action, an actor and an object kind")
	}
	if len(e.Detail) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e.Detail, &obj); err != nil || obj == nil {
			return fmt.Errorf("audit entry %s: detail is not a JSON object", e.Action)
		}
	}
	return nil
}

// Filters passes each condition of q to add as a SQL fragment with ?
// placeholders and its values, in a fixed order, so every store filters
// alike (like CallQuery.Filters); at converts times to the store's
// encoding and prefix writes the condition of a "kind.*" action filter,
// which depends on the database's collation.
func (q AuditQuery) Filters(at func(time.Time) any, prefix func(p string) (cond string, vals []any), add func(cond string, vals ...any)) {
	if p, ok := q.ActionPrefix(); ok {
		cond, vals := prefix(p)
		add(cond, vals...)
	} else if q.Action != "" {
		add("action = ?", q.Action)
	}
	for _, f := range []struct{ col, v string }{
		{"object_kind", q.ObjectKind}, {"object_id", q.ObjectID}, {"actor", q.Actor},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if !q.Since.IsZero() {
		add("time >= ?", at(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ?", at(q.Until))
	}
	if q.AfterSeq != 0 {
		add("seq > ?", q.AfterSeq)
	}
}

// Filters passes each condition of q to add as a SQL fragment with one ?
// placeholder and its value, in a fixed order, so every store filters
// alike; at converts times to the store's encoding. The level condition
// is always first.
func (q RollupQuery) Filters(at func(time.Time) any, add func(cond string, v any)) {
	add("level = ?", q.Level)
	if !q.Since.IsZero() {
		add("bucket >= ?", at(q.Since))
	}
	if !q.Until.IsZero() {
		add("bucket < ?", at(q.Until))
	}
	for _, f := range []struct{ col, v string }{
		{"kind", q.Kind}, {"route", q.Route}, {"consumer", q.Consumer},
		{"code", q.Code}, {"stage", q.Stage}, {"rule", q.Rule},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
}

// ActionPrefix returns the prefix a "kind.*" Action filter selects
// ("key."), and whether Action is such a filter.
func (q AuditQuery) ActionPrefix() (string, bool) {
	if p, ok := strings.CutSuffix(q.Action, "*"); ok && strings.HasSuffix(p, ".") && len(p) > 1 {
		return p, true
	}
	return "", false
}

// TokenKeyIDMaxLen is the longest decision-token key id.
const TokenKeyIDMaxLen = 16

// TokenKeySize is the size of a decision-token key's secret in bytes.
const TokenKeySize = 32

// CheckTokenKey reports why k cannot be stored: an id that is not 1 to 16
// characters of [A-Za-z0-9_-], or a secret that is not 32 bytes. The error
// never contains the secret.
func CheckTokenKey(k *TokenKey) error {
	if k.ID == "" || len(k.ID) > TokenKeyIDMaxLen {
		return fmt.Errorf("token key id must be 1 to %d characters", TokenKeyIDMaxLen)
	}
	for i := 0; i < len(k.ID); i++ {
		c := k.ID[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("token key id %q: only letters, digits, '_' and '-' are allowed", k.ID)
		}
	}
	if len(k.Secret) != TokenKeySize {
		return fmt.Errorf("token key %s: secret is %d bytes, want %d", k.ID, len(k.Secret), TokenKeySize)
	}
	return nil
}

// RevisionAuditEntry is the audit entry AppendRevision writes for r (whose
// Number, Hash and CreatedAt are set), in the revision's own transaction:
// the author as actor, the revision's number as object id and revision,
// and its summary and hash as detail.
func RevisionAuditEntry(r Revision) (AuditEntry, error) {
	detail, err := json.Marshal(struct {
		Summary string `json:"summary"`
		Hash    string `json:"hash"`
	}{r.Summary, r.Hash})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("revision %d audit detail: %w", r.Number, err)
	}
	return AuditEntry{
		Time:       r.CreatedAt,
		Actor:      r.Author,
		Action:     AuditRevisionApplied,
		ObjectKind: AuditObjectRevision,
		ObjectID:   strconv.FormatInt(r.Number, 10),
		Revision:   r.Number,
		Source:     r.Source,
		Detail:     detail,
	}, nil
}
