package postgres

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// twoGateways opens two stores on one schema, as two gateways of a cluster.
func twoGateways(t *testing.T) [2]*Store {
	t.Helper()
	dsn := schemaDSN(t)
	var gws [2]*Store
	for i := range gws {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		gws[i] = s
	}
	return gws
}

// TestRollupsFromTwoGatewaysMergeExactly has two gateways' writers add
// overlapping batches (shuffled differently, new and existing keys mixed)
// to one schema at once: every count and every piece of every sketch must
// arrive, with no deadlock.
func TestRollupsFromTwoGatewaysMergeExactly(t *testing.T) {
	t.Parallel()
	gws := twoGateways(t)
	bucket := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)
	const writers, rounds, keys = 4, 10, 40
	concat := func(old, new []byte) []byte { return slices.Concat(old, []byte("+"), new) }
	var wg sync.WaitGroup
	for w := range writers {
		s := gws[w%2]
		wg.Go(func() {
			for i := range rounds {
				batch := make([]store.Rollup, 0, keys)
				for j := range keys {
					k := (j*7 + w*13 + i) % keys
					batch = append(batch, store.Rollup{Level: store.LevelMinute, Bucket: bucket, Node: "gw", Kind: store.RollupRequest,
						Route: fmt.Sprint("r", k), StatusClass: 2, Count: 1, LatencySum: time.Millisecond,
						Latency: fmt.Appendf(nil, "w%di%d", w, i)})
				}
				if err := s.AddRollups(t.Context(), batch, concat); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := gws[0].QueryRollups(t.Context(), store.RollupQuery{Level: store.LevelMinute})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != keys {
		t.Fatalf("%d rows, want %d", len(got), keys)
	}
	for _, r := range got {
		if r.Count != writers*rounds || r.LatencySum != writers*rounds*time.Millisecond {
			t.Errorf("%s: count %d, sum %v; want %d", r.Route, r.Count, r.LatencySum, writers*rounds)
		}
		if n := len(bytes.Split(r.Latency, []byte("+"))); n != writers*rounds {
			t.Errorf("%s: sketch has %d pieces, want %d", r.Route, n, writers*rounds)
		}
	}
}

// TestAuditFromTwoGateways has two gateways append entries (some of them
// the same expiry, deduplicated) while a follower reads "seq > last" pages:
// entries commit in sequence order, so it sees every stored entry once.
func TestAuditFromTwoGateways(t *testing.T) {
	t.Parallel()
	gws := twoGateways(t)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := range writers {
		s := gws[w%2]
		wg.Go(func() {
			for i := range each {
				e := []store.AuditEntry{
					{Actor: fmt.Sprint("w", w), Action: store.AuditKeyCreated, ObjectKind: store.AuditObjectKey, ObjectID: fmt.Sprint(w, "-", i)},
					{Actor: store.AuditSystemActor, Action: store.AuditKeyExpired, ObjectKind: store.AuditObjectKey,
						ObjectID: fmt.Sprint("k", i), Dedupe: fmt.Sprint("key.expired:k", i)},
				}
				if err := s.AppendAudit(t.Context(), e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var (
		last int64
		seen = map[string]int{}
		done = make(chan struct{})
	)
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more page after the writers are done
		default:
		}
		page, err := gws[1].QueryAudit(t.Context(), store.AuditQuery{AfterSeq: last, Ascending: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen[e.Action+":"+e.ObjectID]++
			last = e.Seq
		}
	}
	if want := writers*each + each; len(seen) != want {
		t.Errorf("follower saw %d distinct entries, want %d", len(seen), want)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", k, n)
		}
	}
}
