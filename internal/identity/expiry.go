package identity

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// DefaultExpiryInterval is how often RunExpiryWatcher looks for keys whose
// expiry passed.
const DefaultExpiryInterval = 15 * time.Second

// expiryBatch bounds the entries of one append, so that a first scan of a
// store with many long-expired keys does not make one huge transaction.
const expiryBatch = 500

// expiryState remembers the expiries this process already recorded (or
// found recorded), so that each is appended once per process; the store's
// Dedupe makes it once per cluster.
type expiryState struct {
	mu   sync.Mutex
	done map[string]bool
}

// ExpiryDedupe is the Dedupe of a key.expired entry: every node that
// notices the expiry appends it, and the store keeps one.
func ExpiryDedupe(prefix string, expiresAt time.Time) string {
	return store.AuditKeyExpired + ":" + prefix + ":" + strconv.FormatInt(expiresAt.Unix(), 10)
}

// RecordExpiries appends a key.expired entry for every key whose expiry
// passed (declared and stored keys, and rotated keys whose grace period
// ended) that this process has not recorded yet, and returns how many it
// appended (the store drops those another node already appended). A key
// revoked before it expired gets none: its revocation ended it. The
// entry's time is the expiry itself. Entries that cannot be stored are
// tried again at the next call.
func (s *Service) RecordExpiries(ctx context.Context) (int, error) {
	if s.Audit == nil {
		return 0, nil
	}
	now := s.now().UnixNano()
	st := &s.expiry
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done == nil {
		st.done = map[string]bool{}
	}
	var pending []store.AuditEntry
	seen := map[string]bool{}
	collect := func(k *Key) bool {
		if k.ExpiresAt == 0 || k.ExpiresAt > now {
			return true
		}
		if rv := k.RevokedAt(); rv != 0 && rv <= k.ExpiresAt {
			return true
		}
		at := time.Unix(0, k.ExpiresAt).UTC()
		dedupe := ExpiryDedupe(k.Prefix, at)
		if st.done[dedupe] || seen[dedupe] {
			return true
		}
		seen[dedupe] = true
		pending = append(pending, s.expiryEntry(k, at, dedupe))
		return true
	}
	if d := s.declared(); d != nil {
		for _, k := range d.Keys {
			collect(k)
		}
	}
	s.Live.Keys(collect)
	// Every node appends in the same order, so that two transactions
	// inserting the same dedupe keys wait for each other instead of
	// deadlocking in PostgreSQL's unique index.
	slices.SortFunc(pending, func(x, y store.AuditEntry) int { return strings.Compare(x.Dedupe, y.Dedupe) })

	appended := 0
	for len(pending) > 0 {
		n := min(len(pending), expiryBatch)
		batch := pending[:n]
		if err := s.Audit.Record(ctx, batch...); err != nil {
			return appended, err
		}
		for _, e := range batch {
			st.done[e.Dedupe] = true
			if e.Seq != 0 {
				appended++
			}
		}
		pending = pending[n:]
	}
	return appended, nil
}

func (s *Service) expiryEntry(k *Key, at time.Time, dedupe string) store.AuditEntry {
	detail := map[string]any{"consumer": k.ConsumerID, "source": k.Source(), "expired_at": at.Format(time.RFC3339)}
	if k.Extra != nil && k.Extra.ReplacedBy != "" {
		// A rotated key's expiry is the end of its grace period.
		detail["replaced_by"] = Prefix(k.Env(), k.Extra.ReplacedBy)
		detail["reason"] = "rotation grace period ended"
	} else {
		detail["reason"] = "expires_at passed"
	}
	e := store.AuditEntry{
		Time: at, Actor: store.AuditSystemActor, Action: store.AuditKeyExpired,
		ObjectKind: store.AuditObjectKey, ObjectID: k.Prefix, Source: "expiry",
		Revision: s.revision(), Dedupe: dedupe,
	}
	e.Detail = audit.Detail(detail)
	return e
}

// RunExpiryWatcher records key expiries every interval (at once first)
// until ctx ends. Every node of a cluster runs one; the store keeps one
// entry per expiry.
func (s *Service) RunExpiryWatcher(ctx context.Context, interval time.Duration) {
	if s.Audit == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		_, err := s.RecordExpiries(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing && s.Log != nil:
			failing = true
			s.Log.Warn("key expiries not recorded in the audit log; retrying", "error", err)
		case err == nil && failing:
			failing = false
			if s.Log != nil {
				s.Log.Info("key expiries recorded in the audit log again")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
