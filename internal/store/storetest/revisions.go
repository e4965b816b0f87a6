package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func runRevisions(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("EmptyStore", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if _, err := s.LatestRevision(ctx(t)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LatestRevision on empty store: err = %v, want store.ErrNotFound", err)
		}
		if _, err := s.Revision(ctx(t), 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Revision(1) on empty store: err = %v, want store.ErrNotFound", err)
		}
		got, err := s.ListRevisions(ctx(t), 10, 0)
		if err != nil || len(got) != 0 {
			t.Errorf("ListRevisions on empty store = %v, %v; want none", got, err)
		}
	})

	t.Run("AppendAndRead", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		doc := []byte("routes:\n  - path: /orders\n")
		in := store.Revision{Author: "alice", Source: "cli", CreatedAt: base, Summary: "add /orders", Document: doc}
		got, err := s.AppendRevision(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.Number, want.Hash = 1, hashOf(doc)
		if !revisionEqual(got, want) {
			t.Errorf("AppendRevision = %+v, want %+v", got, want)
		}
		for name, read := range map[string]func() (store.Revision, error){
			"Revision":       func() (store.Revision, error) { return s.Revision(ctx(t), 1) },
			"LatestRevision": func() (store.Revision, error) { return s.LatestRevision(ctx(t)) },
		} {
			r, err := read()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !revisionEqual(r, want) {
				t.Errorf("%s = %+v, want %+v", name, r, want)
			}
		}
		if _, err := s.Revision(ctx(t), 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Revision(2): err = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("CreatedAtDefaultsToNow", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		r, err := s.AppendRevision(ctx(t), store.Revision{Author: "a", Source: "cli", Document: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if r.CreatedAt.IsZero() {
			t.Fatal("CreatedAt not set")
		}
		read, err := s.Revision(ctx(t), r.Number)
		if err != nil {
			t.Fatal(err)
		}
		if !read.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("stored CreatedAt %v, returned %v", read.CreatedAt, r.CreatedAt)
		}
	})

	t.Run("ConcurrentAppendsHaveNoGaps", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const workers, each = 8, 10
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			nums []int64
		)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					doc := fmt.Appendf(nil, "worker %d doc %d", w, i)
					r, err := s.AppendRevision(ctx(t), store.Revision{Author: "w", Source: "test", Document: doc})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					nums = append(nums, r.Number)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(nums)
		for i, n := range nums {
			if n != int64(i+1) {
				t.Fatalf("revision numbers %v: want 1..%d without gaps or repeats", nums, workers*each)
			}
		}
		if len(nums) != workers*each {
			t.Fatalf("got %d revisions, want %d", len(nums), workers*each)
		}
		latest, err := s.LatestRevision(ctx(t))
		if err != nil || latest.Number != workers*each {
			t.Fatalf("LatestRevision = %d, %v; want %d", latest.Number, err, workers*each)
		}
	})

	t.Run("ListPaging", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for i := range 7 {
			doc := fmt.Appendf(nil, "doc %d", i+1)
			if _, err := s.AppendRevision(ctx(t), store.Revision{Author: "a", Source: "s", Summary: "sum", Document: doc}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			limit  int
			before int64
			want   []int64
		}{
			{"newest page", 3, 0, []int64{7, 6, 5}},
			{"second page", 3, 5, []int64{4, 3, 2}},
			{"last page", 3, 2, []int64{1}},
			{"past the end", 3, 1, nil},
			{"default limit", 0, 0, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"negative before", 2, -1, []int64{7, 6}},
			{"before beyond newest", 2, 100, []int64{7, 6}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := s.ListRevisions(ctx(t), tt.limit, tt.before)
				if err != nil {
					t.Fatal(err)
				}
				var nums []int64
				for _, r := range got {
					nums = append(nums, r.Number)
					if len(r.Document) != 0 {
						t.Errorf("revision %d: Document returned by ListRevisions", r.Number)
					}
					if r.Hash != hashOf(fmt.Appendf(nil, "doc %d", r.Number)) || r.Author != "a" || r.Summary != "sum" {
						t.Errorf("revision %d: metadata not returned: %+v", r.Number, r)
					}
				}
				if !slices.Equal(nums, tt.want) {
					t.Errorf("ListRevisions(%d, %d) = %v, want %v", tt.limit, tt.before, nums, tt.want)
				}
			})
		}
	})

	t.Run("DocumentsKeptExactly", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		docs := [][]byte{
			[]byte("a: 1\n"),
			bytes.Repeat([]byte{0, 1, 2, 0xff, '\n'}, 50000),
			[]byte("unicode: \"héllo ✓\"\n"),
		}
		for i, doc := range docs {
			r, err := s.AppendRevision(ctx(t), store.Revision{Author: "a", Source: "s", Document: doc})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Revision(ctx(t), r.Number)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Document, doc) || got.Hash != hashOf(doc) {
				t.Errorf("document %d not stored exactly (len %d, want %d)", i, len(got.Document), len(doc))
			}
		}
	})
}

func revisionEqual(a, b store.Revision) bool {
	return a.Number == b.Number && a.Author == b.Author && a.Source == b.Source &&
		a.CreatedAt.Equal(b.CreatedAt) && a.Hash == b.Hash && a.Summary == b.Summary &&
		bytes.Equal(a.Document, b.Document)
}
