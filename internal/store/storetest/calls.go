package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// sampleCalls is ten records, one second apart from base, spread over
// statuses, codes and routes so every filter selects a distinct subset.
func sampleCalls() []store.Call {
	statuses := []int{200, 201, 404, 403, 403, 429, 500, 200, 401, 503}
	codes := map[int]string{404: "route.not_found", 403: "authz.scope_missing", 429: "ratelimit.exceeded",
		500: "upstream.error", 401: "authn.key_unknown", 503: "upstream.circuit_open"}
	calls := make([]store.Call, len(statuses))
	for i, st := range statuses {
		c := store.Call{
			Time:            base.Add(time.Duration(i) * time.Second),
			RequestID:       fmt.Sprintf("req-%02d", i),
			Route:           []string{"orders", "users"}[i%2],
			Method:          "GET",
			Host:            "api.example.com",
			Path:            fmt.Sprintf("/orders/%d?x=redacted", i),
			Status:          st,
			Code:            codes[st],
			ClientIP:        "203.0.113.7",
			Target:          "10.0.0.1:8080",
			Attempts:        1,
			Latency:         time.Duration(i+1) * time.Millisecond,
			UpstreamLatency: time.Duration(i) * time.Millisecond,
			BytesIn:         int64(10 * i),
			BytesOut:        int64(100 * i),
			Revision:        3,
		}
		if st >= 400 {
			c.Layer, c.Stage = "gateway", "authz"
			c.Trace = fmt.Appendf(nil, `[{"stage":"authz","outcome":"deny","i":%d}]`, i)
		}
		if i%3 != 0 {
			c.Inputs = fmt.Appendf(nil, `{"method":"GET","url":"/orders/%d","headers":{"Authorization":["[redacted]"]}}`, i)
		}
		calls[i] = c
	}
	return calls
}

func runCalls(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("InsertAssignsSeqAndRoundTrips", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleCalls()
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(in); i++ {
			if in[i].Seq <= in[i-1].Seq || in[0].Seq <= 0 {
				t.Fatalf("Seq not assigned increasing: %d then %d", in[i-1].Seq, in[i].Seq)
			}
		}
		got, err := s.QueryCalls(ctx(t), store.CallQuery{Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in) {
			t.Fatalf("got %d records, want %d", len(got), len(in))
		}
		for i := range in {
			if !callEqual(got[i], in[i]) {
				t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], in[i])
			}
		}
		if err := s.InsertCalls(ctx(t), nil); err != nil {
			t.Errorf("InsertCalls(nil) = %v", err)
		}
	})

	t.Run("LargeBatchSeqMatchesStoredRows", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var in []store.Call
		for len(in) < 75 { // several statements' worth, with a remainder
			in = append(in, sampleCalls()...)
		}
		for i := range in {
			in[i].RequestID = fmt.Sprintf("req-%03d", i)
		}
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		got, err := s.QueryCalls(ctx(t), store.CallQuery{Ascending: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in) {
			t.Fatalf("got %d records, want %d", len(got), len(in))
		}
		for i := range in {
			if got[i].Seq != in[i].Seq || got[i].RequestID != in[i].RequestID {
				t.Fatalf("record %d: stored seq %d id %s, reported seq %d id %s",
					i, got[i].Seq, got[i].RequestID, in[i].Seq, in[i].RequestID)
			}
		}
	})

	t.Run("Query", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleCalls()
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		seq := func(i int) int64 { return in[i].Seq }
		tests := []struct {
			name string
			q    store.CallQuery
			want []int // indexes into in, in the expected order
		}{
			{"all newest first", store.CallQuery{}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
			{"ascending", store.CallQuery{Ascending: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"limit", store.CallQuery{Limit: 3}, []int{9, 8, 7}},
			{"limit ascending", store.CallQuery{Limit: 2, Ascending: true}, []int{0, 1}},
			{"status", store.CallQuery{Status: 403}, []int{4, 3}},
			{"status class 4xx", store.CallQuery{StatusClass: 4}, []int{8, 5, 4, 3, 2}},
			{"status class 5xx", store.CallQuery{StatusClass: 5}, []int{9, 6}},
			{"status class 2xx", store.CallQuery{StatusClass: 2}, []int{7, 1, 0}},
			{"status class 3xx", store.CallQuery{StatusClass: 3}, nil},
			{"code", store.CallQuery{Code: "authz.scope_missing"}, []int{4, 3}},
			{"route", store.CallQuery{Route: "users"}, []int{9, 7, 5, 3, 1}},
			{"request id", store.CallQuery{RequestID: "req-06"}, []int{6}},
			{"unknown request id", store.CallQuery{RequestID: "nope"}, nil},
			{"since is inclusive", store.CallQuery{Since: in[7].Time}, []int{9, 8, 7}},
			{"after seq", store.CallQuery{AfterSeq: seq(6), Ascending: true}, []int{7, 8, 9}},
			{"follow page", store.CallQuery{AfterSeq: seq(2), Ascending: true, Limit: 2}, []int{3, 4}},
			{"combined", store.CallQuery{StatusClass: 4, Route: "users", Since: in[4].Time}, []int{5}},
			{"code and status", store.CallQuery{Code: "route.not_found", Status: 403}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := s.QueryCalls(ctx(t), tt.q)
				if err != nil {
					t.Fatal(err)
				}
				var want, have []int64
				for _, i := range tt.want {
					want = append(want, in[i].Seq)
				}
				for _, c := range got {
					have = append(have, c.Seq)
				}
				if !slices.Equal(have, want) {
					t.Errorf("QueryCalls(%+v) seqs = %v, want %v", tt.q, have, want)
				}
			})
		}
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insertN(t, s, 150)
		for _, tt := range []struct {
			limit, want int
		}{{0, 100}, {-5, 100}, {120, 120}, {1000, 150}} {
			got, err := s.QueryCalls(ctx(t), store.CallQuery{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("Limit %d: got %d records, want %d", tt.limit, len(got), tt.want)
			}
		}
	})

	t.Run("MaxLimit", func(t *testing.T) {
		t.Parallel()
		if testing.Short() {
			t.Skip("inserts 10001 records; skipped with -short")
		}
		s := open(t)
		insertN(t, s, 10001)
		got, err := s.QueryCalls(ctx(t), store.CallQuery{Limit: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10000 {
			t.Errorf("Limit 20000: got %d records, want the cap of 10000", len(got))
		}
	})

	t.Run("PruneByAge", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleCalls()
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneCalls(ctx(t), in[4].Time, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("PruneCalls deleted %d, want 4", n)
		}
		assertSeqs(t, s, in, []int{4, 5, 6, 7, 8, 9})
		if n, err := s.PruneCalls(ctx(t), time.Time{}, 0); err != nil || n != 0 {
			t.Errorf("PruneCalls(zero, 0) = %d, %v; want nothing deleted", n, err)
		}
	})

	t.Run("PruneByCount", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleCalls()
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneCalls(ctx(t), time.Time{}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n != 7 {
			t.Errorf("PruneCalls deleted %d, want 7", n)
		}
		assertSeqs(t, s, in, []int{7, 8, 9})
		if n, err := s.PruneCalls(ctx(t), time.Time{}, 3); err != nil || n != 0 {
			t.Errorf("second PruneCalls = %d, %v; want nothing deleted", n, err)
		}
	})

	t.Run("PruneByAgeAndCount", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := sampleCalls()
		if err := s.InsertCalls(ctx(t), in); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneCalls(ctx(t), in[2].Time, 5)
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("PruneCalls deleted %d, want 5", n)
		}
		assertSeqs(t, s, in, []int{5, 6, 7, 8, 9})
		// Records inserted after pruning keep counting up from the old ones.
		more := sampleCalls()[:1]
		if err := s.InsertCalls(ctx(t), more); err != nil {
			t.Fatal(err)
		}
		if more[0].Seq <= in[9].Seq {
			t.Errorf("Seq %d reused after pruning (newest was %d)", more[0].Seq, in[9].Seq)
		}
	})

	t.Run("PruneEmpty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if n, err := s.PruneCalls(ctx(t), base, 10); err != nil || n != 0 {
			t.Errorf("PruneCalls on empty log = %d, %v", n, err)
		}
	})
}

func insertN(t *testing.T, s store.Store, n int) {
	t.Helper()
	batch := make([]store.Call, n)
	for i := range batch {
		batch[i] = store.Call{Time: base, RequestID: fmt.Sprint(i), Method: "GET", Status: 200}
	}
	if err := s.InsertCalls(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
}

func assertSeqs(t *testing.T, s store.Store, in []store.Call, idx []int) {
	t.Helper()
	got, err := s.QueryCalls(ctx(t), store.CallQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var want, have []int64
	for _, i := range idx {
		want = append(want, in[i].Seq)
	}
	for _, c := range got {
		have = append(have, c.Seq)
	}
	if !slices.Equal(have, want) {
		t.Errorf("remaining seqs = %v, want %v", have, want)
	}
}

func callEqual(a, b store.Call) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.RequestID == b.RequestID &&
		a.Route == b.Route && a.Method == b.Method && a.Host == b.Host && a.Path == b.Path &&
		a.Status == b.Status && a.Code == b.Code && a.Layer == b.Layer && a.Stage == b.Stage &&
		a.ClientIP == b.ClientIP && a.Target == b.Target && a.Attempts == b.Attempts &&
		a.Latency == b.Latency && a.UpstreamLatency == b.UpstreamLatency &&
		a.BytesIn == b.BytesIn && a.BytesOut == b.BytesOut && a.Revision == b.Revision &&
		bytes.Equal(a.Trace, b.Trace) && bytes.Equal(a.Inputs, b.Inputs) &&
		a.ConsumerID == b.ConsumerID && a.CredentialID == b.CredentialID
}
