package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// TestFollowerSeesEveryCallInOrder runs two stores on one schema, as two
// gateways of a cluster, writing call batches concurrently while a follower
// reads "seq > last" pages. Batches commit in sequence order, so the
// follower sees every record exactly once, in consecutive numbers.
func TestFollowerSeesEveryCallInOrder(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	var gateways [2]*Store
	for i := range gateways {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		gateways[i] = s
	}
	const writers, batches, batchSize = 4, 20, 50
	const total = writers * batches * batchSize

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	var wg sync.WaitGroup
	// On a failure below, stop the writers and wait for them to return.
	defer wg.Wait()
	defer cancel()
	for w := range writers {
		s := gateways[w%len(gateways)]
		wg.Go(func() {
			for b := range batches {
				calls := make([]store.Call, batchSize)
				for i := range calls {
					calls[i] = store.Call{Time: time.Now(), RequestID: fmt.Sprintf("w%d-b%d-%d", w, b, i), Method: "GET", Status: 200}
				}
				if err := s.InsertCalls(ctx, calls); err != nil {
					if ctx.Err() == nil {
						t.Error(err)
					}
					return
				}
			}
		})
	}

	var last int64
	seen := make(map[string]bool, total)
	for len(seen) < total && ctx.Err() == nil {
		page, err := gateways[0].QueryCalls(ctx, store.CallQuery{AfterSeq: last, Ascending: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if c.Seq != last+1 {
				t.Fatalf("follower read seq %d after %d: a record was skipped or is not yet visible", c.Seq, last)
			}
			if seen[c.RequestID] {
				t.Fatalf("record %s read twice", c.RequestID)
			}
			seen[c.RequestID] = true
			last = c.Seq
		}
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("follower saw %d of %d records", len(seen), total)
	}
}

// TestRevisionsAcrossGateways appends revisions through two stores sharing
// a schema: one sequence of numbers, without gaps.
func TestRevisionsAcrossGateways(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	a, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 10 {
				if _, err := s.AppendRevision(t.Context(), store.Revision{Author: "g", Source: "test",
					Document: fmt.Appendf(nil, "%d-%d", i, j)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	list, err := b.ListRevisions(t.Context(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range list {
		if r.Number != int64(len(list)-i) {
			t.Fatalf("revision numbers not 40..1: position %d holds %d", i, r.Number)
		}
	}
	if len(list) != 40 {
		t.Errorf("%d revisions, want 40", len(list))
	}
}
