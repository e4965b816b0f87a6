package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// sampleAudit is eight entries, one second apart from base, over several
// actions, objects and actors so every filter selects a distinct subset.
func sampleAudit() []store.AuditEntry {
	specs := []struct{ actor, action, kind, id string }{
		{"alice", store.AuditKeyCreated, store.AuditObjectKey, "pp_live_k1"},
		{"alice", store.AuditKeyRotated, store.AuditObjectKey, "pp_live_k1"},
		{"bob", store.AuditConsumerSuspended, store.AuditObjectConsumer, "orders-app"},
		{"system", store.AuditKeyExpired, store.AuditObjectKey, "pp_live_k2"},
		{"bob", store.AuditKeyRevoked, store.AuditObjectKey, "pp_live_k1"},
		{"alice", store.AuditTenantCreated, store.AuditObjectTenant, "acme"},
		// An action sharing "key" as a string prefix but not the kind.
		{"carol", "keyring.opened", "keyring", "r1"},
		{"system", store.AuditAlertFired, store.AuditObjectAlert, "orders-403"},
	}
	out := make([]store.AuditEntry, len(specs))
	for i, s := range specs {
		out[i] = store.AuditEntry{
			Time: base.Add(time.Duration(i) * time.Second), Actor: s.actor, Action: s.action,
			ObjectKind: s.kind, ObjectID: s.id, Revision: int64(10 + i), Source: "admin-api",
			RequestID: fmt.Sprintf("adm-%02d", i), Detail: json.RawMessage(fmt.Sprintf(`{"i": %d, "note": "é \"q\""}`, i)),
		}
	}
	return out
}

func runAudit(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("AppendAssignsSeqAndRoundTrips", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleAudit()
		in[2].Detail = nil
		in[3].Source, in[3].RequestID, in[3].Revision = "", "", 0
		if err := s.AppendAudit(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if in[i].Seq <= 0 || i > 0 && in[i].Seq <= in[i-1].Seq {
				t.Fatalf("Seq not assigned increasing: %+v", in)
			}
		}
		got, err := s.QueryAudit(ctx(t), store.AuditQuery{Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in) {
			t.Fatalf("QueryAudit returned %d entries, want %d", len(got), len(in))
		}
		for i := range in {
			if !auditEqual(got[i], in[i]) {
				t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], in[i])
			}
		}
		if string(got[0].Detail) != string(in[0].Detail) {
			t.Errorf("Detail %s not kept as written (%s)", got[0].Detail, in[0].Detail)
		}
		if err := s.AppendAudit(ctx(t), nil); err != nil {
			t.Errorf("AppendAudit(nil) = %v", err)
		}
	})

	t.Run("TimeDefaultsToNow", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		before := time.Now().Add(-time.Second)
		in := []store.AuditEntry{{Actor: "alice", Action: store.AuditKeyCreated, ObjectKind: store.AuditObjectKey, ObjectID: "k"}}
		if err := s.AppendAudit(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		if in[0].Time.Before(before) || in[0].Time.After(time.Now().Add(time.Second)) {
			t.Errorf("Time = %v, want about now", in[0].Time)
		}
		got, err := s.QueryAudit(ctx(t), store.AuditQuery{})
		if err != nil || len(got) != 1 || !got[0].Time.Equal(in[0].Time) {
			t.Errorf("stored %+v, %v; want time %v", got, err, in[0].Time)
		}
	})

	t.Run("Dedupe", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		expired := func(id string) store.AuditEntry {
			return store.AuditEntry{Actor: store.AuditSystemActor, Action: store.AuditKeyExpired,
				ObjectKind: store.AuditObjectKey, ObjectID: id, Time: base, Dedupe: "key.expired:" + id + ":1773500966"}
		}
		first := []store.AuditEntry{expired("k1"), expired("k1"), {Actor: "a", Action: "key.created", ObjectKind: "key", Time: base}}
		if err := s.AppendAudit(ctx(t), first); err != nil {
			t.Fatal(err)
		}
		if first[0].Seq == 0 || first[1].Seq != 0 || first[2].Seq == 0 {
			t.Errorf("seqs = %d %d %d; want the in-batch duplicate skipped", first[0].Seq, first[1].Seq, first[2].Seq)
		}
		// Another node noticing the same expiry, and entries without
		// Dedupe, which never conflict.
		second := []store.AuditEntry{expired("k2"), expired("k1"), {Actor: "a", Action: "key.created", ObjectKind: "key", Time: base}}
		if err := s.AppendAudit(ctx(t), second); err != nil {
			t.Fatal(err)
		}
		if second[0].Seq == 0 || second[1].Seq != 0 || second[2].Seq == 0 {
			t.Errorf("seqs = %d %d %d; want only the stored dedupe skipped", second[0].Seq, second[1].Seq, second[2].Seq)
		}
		got, err := s.QueryAudit(ctx(t), store.AuditQuery{Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.Action+":"+e.ObjectID)
		}
		want := []string{"key.expired:k1", "key.created:", "key.expired:k2", "key.created:"}
		if !slices.Equal(ids, want) {
			t.Errorf("stored %v, want %v", ids, want)
		}
	})

	t.Run("Query", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleAudit()
		if err := s.AppendAudit(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			q    store.AuditQuery
			want []int // indexes into in, in the expected order
		}{
			{"all newest first", store.AuditQuery{}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
			{"ascending", store.AuditQuery{Ascending: true}, []int{0, 1, 2, 3, 4, 5, 6, 7}},
			{"limit", store.AuditQuery{Limit: 2}, []int{7, 6}},
			{"action exact", store.AuditQuery{Action: store.AuditKeyRotated}, []int{1}},
			{"action kind prefix", store.AuditQuery{Action: "key.*"}, []int{4, 3, 1, 0}},
			{"prefix is not a pattern", store.AuditQuery{Action: "k%.*"}, nil},
			{"star alone is exact", store.AuditQuery{Action: "*"}, nil},
			{"unknown action", store.AuditQuery{Action: "key"}, nil},
			{"object", store.AuditQuery{ObjectKind: store.AuditObjectKey, ObjectID: "pp_live_k1"}, []int{4, 1, 0}},
			{"object kind", store.AuditQuery{ObjectKind: store.AuditObjectKey}, []int{4, 3, 1, 0}},
			{"actor", store.AuditQuery{Actor: "bob"}, []int{4, 2}},
			{"since inclusive", store.AuditQuery{Since: in[5].Time}, []int{7, 6, 5}},
			{"until exclusive", store.AuditQuery{Until: in[2].Time}, []int{1, 0}},
			{"window", store.AuditQuery{Since: in[1].Time, Until: in[4].Time, Ascending: true}, []int{1, 2, 3}},
			{"after seq", store.AuditQuery{AfterSeq: in[5].Seq, Ascending: true}, []int{6, 7}},
			{"combined", store.AuditQuery{Action: "key.*", Actor: "alice", Since: in[1].Time}, []int{1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := s.QueryAudit(ctx(t), tt.q)
				if err != nil {
					t.Fatal(err)
				}
				var want, have []int64
				for _, i := range tt.want {
					want = append(want, in[i].Seq)
				}
				for _, e := range got {
					have = append(have, e.Seq)
				}
				if !slices.Equal(have, want) {
					t.Errorf("QueryAudit(%+v) seqs = %v, want %v", tt.q, have, want)
				}
			})
		}
	})

	t.Run("Limits", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := make([]store.AuditEntry, 150)
		for i := range in {
			in[i] = store.AuditEntry{Actor: "a", Action: "key.created", ObjectKind: "key", ObjectID: strconv.Itoa(i), Time: base}
		}
		if err := s.AppendAudit(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {120, 120}, {20000, 150}} {
			got, err := s.QueryAudit(ctx(t), store.AuditQuery{Limit: tt.limit})
			if err != nil || len(got) != tt.want {
				t.Errorf("Limit %d: %d entries, %v; want %d", tt.limit, len(got), err, tt.want)
			}
		}
	})

	t.Run("InvalidBatchStoresNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		good := store.AuditEntry{Actor: "a", Action: "key.created", ObjectKind: "key", Time: base}
		for name, bad := range map[string]store.AuditEntry{
			"no action":         {Actor: "a", ObjectKind: "key"},
			"no actor":          {Action: "key.created", ObjectKind: "key"},
			"no object kind":    {Actor: "a", Action: "key.created"},
			"detail not json":   {Actor: "a", Action: "key.created", ObjectKind: "key", Detail: json.RawMessage(`{"a":`)},
			"detail not object": {Actor: "a", Action: "key.created", ObjectKind: "key", Detail: json.RawMessage(`[1]`)},
			"detail null":       {Actor: "a", Action: "key.created", ObjectKind: "key", Detail: json.RawMessage(`null`)},
		} {
			batch := []store.AuditEntry{good, bad}
			if err := s.AppendAudit(ctx(t), batch); err == nil {
				t.Errorf("%s: AppendAudit succeeded", name)
			}
			if batch[0].Seq != 0 {
				t.Errorf("%s: the valid entry got Seq %d in a refused batch", name, batch[0].Seq)
			}
		}
		if got, err := s.QueryAudit(ctx(t), store.AuditQuery{}); err != nil || len(got) != 0 {
			t.Errorf("after refused batches: %d entries, %v", len(got), err)
		}
	})

	t.Run("RevisionsAreAudited", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var revs []store.Revision
		for i := range 3 {
			r, err := s.AppendRevision(ctx(t), store.Revision{Author: "alice", Source: "file:/etc/pinpoint.yaml",
				CreatedAt: base.Add(time.Duration(i) * time.Minute), Summary: fmt.Sprintf("change %d", i),
				Document: fmt.Appendf(nil, "doc %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			revs = append(revs, r)
		}
		got, err := s.QueryAudit(ctx(t), store.AuditQuery{Action: store.AuditRevisionApplied, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(revs) {
			t.Fatalf("%d revision entries, want %d", len(got), len(revs))
		}
		for i, e := range got {
			r := revs[i]
			if e.Actor != r.Author || e.Source != r.Source || e.ObjectKind != store.AuditObjectRevision ||
				e.ObjectID != strconv.FormatInt(r.Number, 10) || e.Revision != r.Number || !e.Time.Equal(r.CreatedAt) {
				t.Errorf("entry for revision %d = %+v", r.Number, e)
			}
			var d struct{ Summary, Hash string }
			if err := json.Unmarshal(e.Detail, &d); err != nil || d.Summary != r.Summary || d.Hash != r.Hash {
				t.Errorf("entry for revision %d: detail %s (%v), want summary %q hash %s", r.Number, e.Detail, err, r.Summary, r.Hash)
			}
		}
		// A refused revision leaves no entry behind.
		if _, err := s.AppendRevision(ctx(t), store.Revision{Author: "a", Source: "s", Document: []byte("x"), Hash: "bad"}); err == nil {
			t.Fatal("AppendRevision with a wrong hash succeeded")
		}
		if got, _ := s.QueryAudit(ctx(t), store.AuditQuery{}); len(got) != len(revs) {
			t.Errorf("%d entries after a refused revision, want %d", len(got), len(revs))
		}
	})

	t.Run("ConcurrentAppendsFollowable", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const writers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					e := []store.AuditEntry{{Actor: fmt.Sprint("w", w), Action: "key.created", ObjectKind: "key",
						ObjectID: fmt.Sprint(i), Time: base}}
					if i%3 == 0 {
						_, err := s.AppendRevision(ctx(t), store.Revision{Author: e[0].Actor, Source: "s", Document: fmt.Appendf(nil, "%d-%d", w, i)})
						if err != nil {
							errs <- err
							return
						}
					}
					if err := s.AppendAudit(ctx(t), e); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := s.QueryAudit(ctx(t), store.AuditQuery{Ascending: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if want := writers*each + writers*4; len(got) != want {
			t.Fatalf("%d entries, want %d", len(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Fatalf("seqs not increasing: %d then %d", got[i-1].Seq, got[i].Seq)
			}
		}
	})
}

func auditEqual(a, b store.AuditEntry) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Actor == b.Actor && a.Action == b.Action &&
		a.ObjectKind == b.ObjectKind && a.ObjectID == b.ObjectID && a.Revision == b.Revision &&
		a.Source == b.Source && a.RequestID == b.RequestID && jsonEqual(a.Detail, b.Detail)
}

func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
