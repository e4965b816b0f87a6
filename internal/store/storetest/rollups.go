package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// concat is a latency "merge" the tests can see ran, and in which order:
// old then new, joined by '+'.
func concat(old, new []byte) []byte {
	return slices.Concat(old, []byte("+"), new)
}

// rollup is a minute row of route r in the minute m minutes after base.
func rollup(m int, route string, count int64, latency string) store.Rollup {
	return store.Rollup{Level: store.LevelMinute, Bucket: base.Truncate(time.Minute).Add(time.Duration(m) * time.Minute),
		Node: "gw-1", Kind: store.RollupRequest, Route: route, Consumer: "orders-app", StatusClass: 2,
		Count: count, UpstreamErrors: count / 10, LatencySum: time.Duration(count) * time.Millisecond,
		Latency: []byte(latency)}
}

func runRollups(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("AddInsertsAndMerges", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		denied := rollup(0, "orders", 3, "d")
		denied.Code, denied.Stage, denied.Layer, denied.Rule, denied.StatusClass = "authz.scope_missing", "authz", "gateway", "orders-write", 4
		if err := s.AddRollups(ctx(t), []store.Rollup{rollup(0, "orders", 10, "a"), rollup(1, "orders", 5, "x"), denied}, concat); err != nil {
			t.Fatal(err)
		}
		// The same keys again, one twice in the batch, and a row without
		// a sketch: counts add, sketches merge stored-first, in order.
		second := []store.Rollup{rollup(0, "orders", 20, "b"), rollup(0, "orders", 1, "c"), rollup(1, "orders", 5, "")}
		if err := s.AddRollups(ctx(t), second, concat); err != nil {
			t.Fatal(err)
		}
		if string(second[0].Latency) != "b" || second[0].Count != 20 {
			t.Errorf("AddRollups modified its argument: %+v", second[0])
		}
		got, err := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute})
		if err != nil {
			t.Fatal(err)
		}
		// Within a bucket, rows sort by the rest of the key: "" < "authz…".
		want := []store.Rollup{rollup(0, "orders", 31, "a+b+c"), denied, rollup(1, "orders", 10, "x")}
		want[0].UpstreamErrors = 1 + 2 + 0
		want[2].UpstreamErrors = 0 + 0
		checkRollups(t, got, want)
	})

	t.Run("SketchOnlyOnOneSide", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		calls := 0
		count := func(old, new []byte) []byte { calls++; return concat(old, new) }
		if err := s.AddRollups(ctx(t), []store.Rollup{rollup(0, "a", 1, ""), rollup(0, "b", 1, "b1")}, count); err != nil {
			t.Fatal(err)
		}
		if err := s.AddRollups(ctx(t), []store.Rollup{rollup(0, "a", 1, "a2"), rollup(0, "b", 1, "")}, count); err != nil {
			t.Fatal(err)
		}
		if calls != 0 {
			t.Errorf("merge called %d times with an empty side", calls)
		}
		got, err := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Rollup{rollup(0, "a", 2, "a2"), rollup(0, "b", 2, "b1")}
		want[0].LatencySum, want[1].LatencySum = 2*time.Millisecond, 2*time.Millisecond
		checkRollups(t, got, want)
	})

	t.Run("EveryKeyFieldSeparatesRows", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		b := rollup(0, "orders", 1, "")
		variants := []func(r *store.Rollup){
			func(r *store.Rollup) {},
			func(r *store.Rollup) { r.Level = store.LevelHour },
			func(r *store.Rollup) { r.Bucket = r.Bucket.Add(time.Minute) },
			func(r *store.Rollup) { r.Node = "gw-2" },
			func(r *store.Rollup) { r.Node = "" },
			func(r *store.Rollup) { r.Kind = store.RollupWouldDeny },
			func(r *store.Rollup) { r.Route = "users" },
			func(r *store.Rollup) { r.Consumer = "" },
			func(r *store.Rollup) { r.Code = "waf.blocked" },
			func(r *store.Rollup) { r.Stage = "waf" },
			func(r *store.Rollup) { r.Layer = "gateway" },
			func(r *store.Rollup) { r.Rule = "942100" },
			func(r *store.Rollup) { r.StatusClass = 4 },
		}
		var rows []store.Rollup
		for _, v := range variants {
			r := b
			v(&r)
			rows = append(rows, r)
		}
		for range 2 {
			if err := s.AddRollups(ctx(t), rows, concat); err != nil {
				t.Fatal(err)
			}
		}
		var total int
		for _, level := range []string{store.LevelMinute, store.LevelHour} {
			got, err := s.QueryRollups(ctx(t), store.RollupQuery{Level: level})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if r.Count != 2 {
					t.Errorf("row %+v: count %d, want 2", r.Key(), r.Count)
				}
			}
			total += len(got)
		}
		if total != len(variants) {
			t.Errorf("%d rows stored, want %d", total, len(variants))
		}
	})

	t.Run("Query", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		rows := []store.Rollup{rollup(2, "orders", 1, ""), rollup(0, "users", 1, ""), rollup(1, "orders", 1, ""), rollup(0, "orders", 1, "")}
		wd := rollup(1, "orders", 1, "")
		wd.Kind, wd.Code, wd.Stage, wd.Rule, wd.Consumer = store.RollupWouldDeny, "ip.denied", "ip", "office-only", "partner"
		rows = append(rows, wd)
		hour := rollup(0, "orders", 1, "")
		hour.Level, hour.Bucket, hour.Node = store.LevelHour, base.Truncate(time.Hour), ""
		rows = append(rows, hour)
		if err := s.AddRollups(ctx(t), rows, concat); err != nil {
			t.Fatal(err)
		}
		minute := func(m int) time.Time { return base.Truncate(time.Minute).Add(time.Duration(m) * time.Minute) }
		type rk struct {
			m     int
			route string
		}
		tests := []struct {
			name string
			q    store.RollupQuery
			want []rk
		}{
			{"level, by bucket then key", store.RollupQuery{Level: store.LevelMinute},
				[]rk{{0, "orders"}, {0, "users"}, {1, "orders"}, {1, "orders"}, {2, "orders"}}},
			{"since inclusive", store.RollupQuery{Level: store.LevelMinute, Since: minute(1)}, []rk{{1, "orders"}, {1, "orders"}, {2, "orders"}}},
			{"until exclusive", store.RollupQuery{Level: store.LevelMinute, Until: minute(1)}, []rk{{0, "orders"}, {0, "users"}}},
			{"route", store.RollupQuery{Level: store.LevelMinute, Route: "users"}, []rk{{0, "users"}}},
			{"kind", store.RollupQuery{Level: store.LevelMinute, Kind: store.RollupWouldDeny}, []rk{{1, "orders"}}},
			{"consumer", store.RollupQuery{Level: store.LevelMinute, Consumer: "partner"}, []rk{{1, "orders"}}},
			{"code", store.RollupQuery{Level: store.LevelMinute, Code: "ip.denied"}, []rk{{1, "orders"}}},
			{"stage", store.RollupQuery{Level: store.LevelMinute, Stage: "ip"}, []rk{{1, "orders"}}},
			{"rule", store.RollupQuery{Level: store.LevelMinute, Rule: "office-only"}, []rk{{1, "orders"}}},
			{"no match", store.RollupQuery{Level: store.LevelMinute, Rule: "nope"}, nil},
			{"other level", store.RollupQuery{Level: store.LevelHour}, []rk{{-1, "orders"}}},
			{"empty level", store.RollupQuery{Level: store.LevelDay}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := s.QueryRollups(ctx(t), tt.q)
				if err != nil {
					t.Fatal(err)
				}
				var have []rk
				for _, r := range got {
					m := int(r.Bucket.Sub(minute(0)) / time.Minute)
					if r.Level == store.LevelHour {
						m = -1
					}
					have = append(have, rk{m, r.Route})
				}
				if !slices.Equal(have, tt.want) {
					t.Errorf("QueryRollups(%+v) = %v, want %v", tt.q, have, tt.want)
				}
			})
		}
		if _, err := s.QueryRollups(ctx(t), store.RollupQuery{}); err == nil {
			t.Error("QueryRollups without a level succeeded")
		}
	})

	t.Run("InvalidRowsRefused", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for name, mut := range map[string]func(r *store.Rollup){
			"unknown level": func(r *store.Rollup) { r.Level = "week" },
			"no kind":       func(r *store.Rollup) { r.Kind = "" },
			"no bucket":     func(r *store.Rollup) { r.Bucket = time.Time{} },
		} {
			bad := rollup(0, "orders", 1, "")
			mut(&bad)
			if err := s.AddRollups(ctx(t), []store.Rollup{rollup(0, "orders", 1, ""), bad}, concat); err == nil {
				t.Errorf("%s: AddRollups succeeded", name)
			}
		}
		if got, _ := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute}); len(got) != 0 {
			t.Errorf("refused batches stored %d rows", len(got))
		}
	})

	t.Run("Replace", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		hour := base.Truncate(time.Hour)
		h := func(route string, count int64, latency string) store.Rollup {
			r := rollup(0, route, count, latency)
			r.Level, r.Bucket, r.Node = store.LevelHour, hour, ""
			return r
		}
		next := h("orders", 1, "n")
		next.Bucket = hour.Add(time.Hour)
		if err := s.AddRollups(ctx(t), []store.Rollup{h("orders", 1, "o"), h("users", 1, "u"), next, rollup(0, "orders", 4, "m")}, concat); err != nil {
			t.Fatal(err)
		}
		repl := []store.Rollup{h("orders", 7, "c1"), h("billing", 2, "c2")}
		for range 2 { // repeating a compaction changes nothing
			if err := s.ReplaceRollups(ctx(t), store.LevelHour, hour, repl); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelHour})
		if err != nil {
			t.Fatal(err)
		}
		checkRollups(t, got, []store.Rollup{h("billing", 2, "c2"), h("orders", 7, "c1"), next})
		if got, _ := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute}); len(got) != 1 {
			t.Errorf("ReplaceRollups of hours touched minute rows: %d left", len(got))
		}
		// An empty replacement clears the bucket.
		if err := s.ReplaceRollups(ctx(t), store.LevelHour, hour, nil); err != nil {
			t.Fatal(err)
		}
		got, _ = s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelHour})
		checkRollups(t, got, []store.Rollup{next})
		// Rows of another bucket or level, or duplicate keys, are refused
		// and leave the stored rows alone.
		for name, rows := range map[string][]store.Rollup{
			"other bucket":   {h("orders", 1, ""), next},
			"other level":    {h("orders", 1, ""), rollup(0, "orders", 1, "")},
			"duplicate keys": {h("orders", 1, ""), h("orders", 2, "")},
		} {
			if err := s.ReplaceRollups(ctx(t), store.LevelHour, hour, rows); err == nil {
				t.Errorf("%s: ReplaceRollups succeeded", name)
			}
		}
		got, _ = s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelHour})
		checkRollups(t, got, []store.Rollup{next})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		hour := rollup(0, "orders", 1, "")
		hour.Level = store.LevelHour
		if err := s.AddRollups(ctx(t), []store.Rollup{rollup(0, "a", 1, ""), rollup(1, "a", 1, ""), rollup(2, "a", 1, ""), hour}, concat); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteRollups(ctx(t), store.LevelMinute, rollup(2, "", 0, "").Bucket)
		if err != nil || n != 2 {
			t.Errorf("DeleteRollups = %d, %v; want 2", n, err)
		}
		got, _ := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute})
		checkRollups(t, got, []store.Rollup{rollup(2, "a", 1, "")})
		if got, _ := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelHour}); len(got) != 1 {
			t.Errorf("DeleteRollups of minutes deleted hour rows")
		}
		if n, err := s.DeleteRollups(ctx(t), store.LevelMinute, rollup(2, "", 0, "").Bucket); err != nil || n != 0 {
			t.Errorf("second DeleteRollups = %d, %v; want 0", n, err)
		}
	})

	t.Run("ConcurrentWritersLoseNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// Two writers (two nodes' compactors, say) add to the same keys in
		// opposite orders: totals must be exact and every piece of every
		// sketch kept.
		const writers, rounds, keys = 2, 15, 6
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range rounds {
					batch := make([]store.Rollup, keys)
					for j := range keys {
						k := j
						if w == 1 {
							k = keys - 1 - j
						}
						batch[j] = rollup(k%2, fmt.Sprint("route-", k), 1, fmt.Sprintf("w%di%d", w, i))
					}
					if err := s.AddRollups(ctx(t), batch, concat); err != nil {
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
		got, err := s.QueryRollups(ctx(t), store.RollupQuery{Level: store.LevelMinute})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != keys {
			t.Fatalf("%d rows, want %d", len(got), keys)
		}
		for _, r := range got {
			if r.Count != writers*rounds || r.LatencySum != writers*rounds*time.Millisecond {
				t.Errorf("%s: count %d sum %v, want %d", r.Route, r.Count, r.LatencySum, writers*rounds)
			}
			pieces := bytes.Split(r.Latency, []byte("+"))
			if len(pieces) != writers*rounds {
				t.Errorf("%s: sketch has %d pieces, want %d: %s", r.Route, len(pieces), writers*rounds, r.Latency)
			}
		}
	})
}

// checkRollups compares rows field by field, in order.
func checkRollups(t *testing.T, got, want []store.Rollup) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Key() != w.Key() || !g.Bucket.Equal(w.Bucket) || g.Count != w.Count || g.UpstreamErrors != w.UpstreamErrors ||
			g.LatencySum != w.LatencySum || !bytes.Equal(g.Latency, w.Latency) {
			t.Errorf("row %d:\n got %+v (latency %q)\nwant %+v (latency %q)", i, g, g.Latency, w, w.Latency)
		}
	}
}
