package upstream

import (
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// testTargets builds targets with the given weights (no network involved).
func testTargets(t *testing.T, weights ...int) []*target {
	t.Helper()
	var ts []*target
	for i, w := range weights {
		tg, err := parseTarget(i, config.Target{URL: "http://10.0.0." + strconv.Itoa(i+1) + ":8080", Weight: w})
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tg)
	}
	return ts
}

func TestWeightedDistribution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(ts []*target) balancer
	}{
		{"round_robin", func(ts []*target) balancer { return newRoundRobin(ts) }},
		{"least_connections when idle", func(ts []*target) balancer { return &leastConn{rr: newRoundRobin(ts)} }},
		{"random", func(ts []*target) balancer {
			rng := rand.New(rand.NewPCG(1, 2))
			return &random{targets: ts, intn: rng.IntN}
		}},
		{"consistent_hash over distinct keys", func(ts []*target) balancer {
			return &consistentHash{ring: newRing(ts), key: hashKey{kind: 'p'}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := testTargets(t, 1, 2, 3)
			b := tc.make(ts)
			const picks = 10000
			counts := make([]int, len(ts))
			x := &pipeline.Exchange{}
			for i := range picks {
				x.Path = "/items/" + strconv.Itoa(i)
				counts[b.pick(x, 0, nil).index]++
			}
			for i, w := range []float64{1, 2, 3} {
				want := w / 6
				got := float64(counts[i]) / picks
				if math.Abs(got-want) > 0.03 {
					t.Errorf("target %d (weight %v): share %.3f, want %.3f ± 0.03", i, w, got, want)
				}
			}
		})
	}
}

func TestSmoothRoundRobinOrder(t *testing.T) {
	t.Parallel()
	ts := testTargets(t, 5, 1, 1)
	b := newRoundRobin(ts)
	got := ""
	for range 7 {
		got += string(rune('a' + b.pick(nil, 0, nil).index))
	}
	// nginx's documented sequence for weights 5/1/1: no burst of five a's.
	if got != "aabacaa" {
		t.Fatalf("order %q, want aabacaa", got)
	}
}

func TestBalancersSkipUnusableAndTried(t *testing.T) {
	t.Parallel()
	kinds := []string{BalanceRoundRobin, BalanceLeastConnections, BalanceRandom, BalanceConsistentHash}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			u := &Upstream{targets: testTargets(t, 1, 1, 1)}
			if err := u.setBalance(kind, ""); err != nil {
				t.Fatal(err)
			}
			ts := u.targets
			ts[0].down.Store(true)        // active checks marked it down
			ts[1].ejectedUntil.Store(100) // passive ejection until t=100
			x := &pipeline.Exchange{ClientIP: netip.MustParseAddr("192.0.2.7"), Path: "/p"}
			for i := range 50 {
				x.Path = "/p/" + strconv.Itoa(i)
				if got := u.bal.pick(x, 50, nil); got != ts[2] {
					t.Fatalf("picked target %d, want the only usable one (2)", got.index)
				}
			}
			if got := u.bal.pick(x, 50, []*target{ts[2]}); got != nil {
				t.Fatalf("picked target %d although every usable target was tried", got.index)
			}
			// The ejection is over at t=100: the target is picked again.
			seen := false
			for i := range 50 {
				x.Path = "/p/" + strconv.Itoa(i)
				if u.bal.pick(x, 100, []*target{ts[2]}) == ts[1] {
					seen = true
				}
			}
			if !seen {
				t.Fatal("target never picked after its ejection ended")
			}
		})
	}
}

func TestLeastConnectionsPrefersIdle(t *testing.T) {
	t.Parallel()
	ts := testTargets(t, 1, 1, 2)
	b := &leastConn{rr: newRoundRobin(ts)}
	ts[0].inflight.Store(3)
	ts[1].inflight.Store(1)
	ts[2].inflight.Store(4) // weight 2: a load of 2 per unit
	if got := b.pick(nil, 0, nil); got != ts[1] {
		t.Fatalf("picked %d, want 1 (fewest in flight per weight)", got.index)
	}
	ts[1].inflight.Store(2) // now 1 and 2 tie at 2 per unit of weight
	counts := map[int]int{}
	for range 30 {
		counts[b.pick(nil, 0, nil).index]++
	}
	if counts[0] != 0 || counts[1] != 10 || counts[2] != 20 {
		t.Fatalf("tie broken as %v, want weighted round robin 10/20 between 1 and 2", counts)
	}
}

func TestConsistentHashStability(t *testing.T) {
	t.Parallel()
	ts := testTargets(t, 1, 1, 1, 1, 1)
	full := newRing(ts)
	removed := ts[2]
	var rest []*target
	for _, tg := range ts {
		if tg != removed {
			rest = append(rest, tg)
		}
	}
	smaller := newRing(rest)
	const keys = 10000
	kept, onRemoved := 0, 0
	for i := range keys {
		h := hashString("client-" + strconv.Itoa(i))
		before := full.lookup(h, 0, nil)
		after := smaller.lookup(h, 0, nil)
		if before == removed {
			onRemoved++
			continue
		}
		if before != after {
			t.Fatalf("key %d moved from target %d to %d although its target stayed", i, before.index, after.index)
		}
		kept++
	}
	if share := float64(kept) / keys; share < 0.75 {
		t.Fatalf("only %.1f%% of keys kept their target", share*100)
	}
	// Ejecting the target instead of removing it moves the same keys only.
	removed.ejectedUntil.Store(math.MaxInt64)
	for i := range keys {
		h := hashString("client-" + strconv.Itoa(i))
		if full.lookup(h, 0, nil) != smaller.lookup(h, 0, nil) {
			t.Fatalf("key %d: ejection and removal disagree", i)
		}
	}
	t.Logf("kept %d of %d keys, %d were on the removed target", kept, keys, onRemoved)
}

func TestHashOnKeys(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-User", "alice")
	ip := netip.MustParseAddr("198.51.100.4")
	ip16 := ip.As16()
	x := &pipeline.Exchange{Request: r, ClientIP: ip, Path: "/a"}
	cases := []struct {
		hashOn string
		want   uint64
	}{
		{"", hashBytes(ip16[:])},
		{"ip", hashBytes(ip16[:])},
		{"path", hashString("/a")},
		{"header:x-user", hashString("alice")},
		{"header:X-Missing", hashBytes(ip16[:])}, // falls back to the client IP
	}
	for _, tc := range cases {
		t.Run(tc.hashOn, func(t *testing.T) {
			t.Parallel()
			k, err := parseHashOn(tc.hashOn)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.sum(x); got != tc.want {
				t.Fatalf("sum %x, want %x", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"cookie", "header:", "header:bad name"} {
		if _, err := parseHashOn(bad); err == nil {
			t.Errorf("hash_on %q accepted", bad)
		}
	}
}

func BenchmarkPick(b *testing.B) {
	for _, kind := range []string{BalanceRoundRobin, BalanceLeastConnections, BalanceRandom, BalanceConsistentHash} {
		b.Run(kind, func(b *testing.B) {
			u := &Upstream{}
			for i := range 8 {
				tg, _ := parseTarget(i, config.Target{URL: "http://10.0.0." + strconv.Itoa(i+1), Weight: i%3 + 1})
				u.targets = append(u.targets, tg)
			}
			if err := u.setBalance(kind, ""); err != nil {
				b.Fatal(err)
			}
			x := &pipeline.Exchange{ClientIP: netip.MustParseAddr("203.0.113.50")}
			b.ReportAllocs()
			for b.Loop() {
				u.bal.pick(x, 0, nil)
			}
		})
	}
}
