package meter

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// fakeClock is a settable clock for the meter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// t0 is a whole second in the middle of a UTC month and day.
var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func usd(s string) pricing.Money {
	m, err := pricing.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func tpm(rule, key string, n int64) Limit { return Limit{Rule: rule, Key: key, TokensPerMinute: n} }

// mustReserve reserves and fails the test on a refusal.
func mustReserve(t *testing.T, m *Meter, limits []Limit, ask Ask) *Reservation {
	t.Helper()
	r, ref := m.Reserve(limits, ask)
	if ref != nil {
		t.Fatalf("Reserve(%+v) refused: %+v", ask, *ref)
	}
	if r == nil {
		t.Fatalf("Reserve(%+v) returned no reservation", ask)
	}
	return r
}

// mustRefuse reserves and fails the test unless it is refused.
func mustRefuse(t *testing.T, m *Meter, limits []Limit, ask Ask) *Refusal {
	t.Helper()
	r, ref := m.Reserve(limits, ask)
	if ref == nil {
		t.Fatalf("Reserve(%+v) admitted, want a refusal", ask)
	}
	if r != nil {
		t.Fatalf("Reserve(%+v) refused but returned a reservation", ask)
	}
	return ref
}

func TestTokensBoundary(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	m := New(clk.now)
	l := []Limit{tpm("r", "consumer:alice", 100)}

	a := mustReserve(t, m, l, Ask{Tokens: 60})
	b := mustReserve(t, m, l, Ask{Tokens: 40}) // exactly at the cap
	ref := mustRefuse(t, m, l, Ask{Tokens: 1})
	want := Refusal{Rule: "r", Key: "consumer:alice", Kind: Tokens, TokenLimit: 100, TokensReserved: 100,
		Ask: Ask{Tokens: 1}, Reset: t0.Add(time.Second), RetryAfter: time.Second}
	if *ref != want {
		t.Errorf("refusal while only calls in flight block:\n got %+v\nwant %+v", *ref, want)
	}
	// An ask of nothing fits a full cap (used + reserved + 0 ≤ cap).
	mustReserve(t, m, l, Ask{}).Settle(Ask{})
	a.Settle(Ask{Tokens: 60})
	b.Settle(Ask{Tokens: 40})
	st := m.Usage(l[0])
	if st.Tokens != 100 || st.ReservedTokens != 0 || st.InFlight != 0 {
		t.Errorf("Usage after settling = %+v, want 100 tokens, nothing in flight", st)
	}
	ref = mustRefuse(t, m, l, Ask{Tokens: 1})
	if ref.TokensUsed != 100 || ref.TokensReserved != 0 || ref.RetryAfter != 60*time.Second {
		t.Errorf("refusal with a full window: %+v, want 100 used and RetryAfter 60s", *ref)
	}
}

func TestNeverFits(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	tests := []struct {
		name  string
		limit Limit
		ask   Ask
		kind  Kind
	}{
		{"tokens", Limit{Rule: "r", Key: "k", TokensPerMinute: 100}, Ask{Tokens: 101}, Tokens},
		{"daily", Limit{Rule: "r", Key: "k", Daily: usd("1")}, Ask{Cost: usd("1.000000000001")}, Daily},
		{"monthly", Limit{Rule: "r", Key: "k", Daily: usd("10"), Monthly: usd("5")}, Ask{Cost: usd("6")}, Monthly},
	}
	for _, tt := range tests {
		ref := mustRefuse(t, m, []Limit{tt.limit}, tt.ask)
		if ref.Kind != tt.kind || !ref.NeverFits || ref.RetryAfter != 0 || !ref.Reset.IsZero() {
			t.Errorf("%s: %+v, want a %s refusal that never fits", tt.name, *ref, tt.kind)
		}
	}
	// An ask equal to the cap fits an empty counter.
	mustReserve(t, m, []Limit{{Rule: "r2", Key: "k", TokensPerMinute: 100, Daily: usd("1")}}, Ask{Tokens: 100, Cost: usd("1")}).Settle(Ask{})
}

func TestAllOrNothing(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	a := Limit{Rule: "everyone", Key: "consumer:alice", TokensPerMinute: 1000, Daily: usd("5")}
	b := Limit{Rule: "free", Key: "tenant:acme", TokensPerMinute: 50}
	mustReserve(t, m, []Limit{b}, Ask{Tokens: 40}).Settle(Ask{Tokens: 40})

	ref := mustRefuse(t, m, []Limit{a, b}, Ask{Tokens: 20, Cost: usd("0.10")})
	if ref.Rule != "free" || ref.Key != "tenant:acme" || ref.Kind != Tokens {
		t.Errorf("refusal = %+v, want rule free", *ref)
	}
	if st := m.Usage(a); st.ReservedTokens != 0 || !st.ReservedCost.IsZero() || st.InFlight != 0 {
		t.Errorf("the limit that had room holds a reservation after a refusal: %+v", st)
	}
	r := mustReserve(t, m, []Limit{a, b}, Ask{Tokens: 10, Cost: usd("0.10")})
	for _, l := range []Limit{a, b} {
		if st := m.Usage(l); st.ReservedTokens != 10 || st.InFlight != 1 {
			t.Errorf("%s: %+v, want 10 tokens reserved", l.Rule, st)
		}
	}
	if st := m.Usage(a); st.ReservedCost != usd("0.10") {
		t.Errorf("a: reserved cost %s, want 0.1", st.ReservedCost)
	}
	if st := m.Usage(b); !st.ReservedCost.IsZero() {
		t.Errorf("b has no budget but reserved cost %s", st.ReservedCost)
	}
	r.Settle(Ask{Tokens: 10, Cost: usd("0.05")})
	if st := m.Usage(a); st.Tokens != 10 || st.Daily != usd("0.05") || st.Monthly != usd("0.05") {
		t.Errorf("a after settle: %+v", st)
	}
	if st := m.Usage(b); st.Tokens != 50 || st.Daily != usd("0.05") {
		t.Errorf("b after settle: %+v (spend is counted on every limit)", st)
	}
}

func TestSettleMoreOrLess(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	l := []Limit{{Rule: "r", Key: "k", TokensPerMinute: 100, Daily: usd("1")}}

	// More than reserved: the actual use counts, past the cap.
	mustReserve(t, m, l, Ask{Tokens: 50, Cost: usd("0.5")}).Settle(Ask{Tokens: 120, Cost: usd("1.2")})
	st := m.Usage(l[0])
	if st.Tokens != 120 || st.Daily != usd("1.2") || st.ReservedTokens != 0 || !st.ReservedCost.IsZero() {
		t.Fatalf("after settling more: %+v", st)
	}
	ref := mustRefuse(t, m, l, Ask{})
	if ref.Kind != Daily || ref.Spent != usd("1.2") || ref.RetryAfter != 12*time.Hour {
		t.Errorf("overspent: %+v, want a daily refusal until midnight", *ref)
	}

	// Less than reserved: the rest of the hold is given back.
	m2 := New(newClock(t0).now)
	r := mustReserve(t, m2, l, Ask{Tokens: 90, Cost: usd("0.9")})
	mustRefuse(t, m2, l, Ask{Tokens: 20})
	r.Settle(Ask{Tokens: 10, Cost: usd("0.1")})
	mustReserve(t, m2, l, Ask{Tokens: 90, Cost: usd("0.9")}).Settle(Ask{Tokens: 90, Cost: usd("0.9")})
	if st := m2.Usage(l[0]); st.Tokens != 100 || st.Daily != usd("1") {
		t.Errorf("after settling less: %+v, want 100 tokens and $1", st)
	}
}

func TestSettleOnce(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	var nilRes *Reservation
	nilRes.Settle(Ask{Tokens: 5}) // must not panic
	if r, ref := m.Reserve(nil, Ask{Tokens: 5}); r != nil || ref != nil {
		t.Errorf("Reserve with no limits = %v, %v; want nil, nil", r, ref)
	}
	l := []Limit{tpm("r", "k", 100)}
	r := mustReserve(t, m, l, Ask{Tokens: 10})
	r.Settle(Ask{Tokens: 10})
	r.Settle(Ask{Tokens: 10}) // a second Settle: no effect
	if st := m.Usage(l[0]); st.Tokens != 10 || st.InFlight != 0 {
		t.Errorf("after a second Settle: %+v, want 10 tokens", st)
	}
}

func TestWindowAgesOut(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	m := New(clk.now)
	l := []Limit{tpm("r", "k", 100)}
	use := func(n int64) { mustReserve(t, m, l, Ask{Tokens: n}).Settle(Ask{Tokens: n}) }

	use(30) // t0
	clk.add(10 * time.Second)
	use(40) // t0+10s
	clk.add(10 * time.Second)
	use(30) // t0+20s, the window is full
	clk.add(10*time.Second + 500*time.Millisecond)

	// 50 tokens fit once 30 (t0) and 40 (t0+10s) have left: at t0+70s.
	ref := mustRefuse(t, m, l, Ask{Tokens: 50})
	if want := 39500 * time.Millisecond; ref.RetryAfter != want || !ref.Reset.Equal(t0.Add(70*time.Second)) {
		t.Errorf("RetryAfter = %v, Reset = %v; want %v, %v", ref.RetryAfter, ref.Reset, want, t0.Add(70*time.Second))
	}
	// 30 tokens fit once the first 30 have left, at t0+60s.
	if ref := mustRefuse(t, m, l, Ask{Tokens: 30}); ref.RetryAfter != 29500*time.Millisecond {
		t.Errorf("RetryAfter for 30 = %v, want 29.5s", ref.RetryAfter)
	}
	clk.set(t0.Add(60*time.Second - time.Millisecond))
	if ref := mustRefuse(t, m, l, Ask{Tokens: 30}); ref.RetryAfter != time.Second {
		t.Errorf("RetryAfter 1ms before = %v, want the 1s floor", ref.RetryAfter)
	}
	if st := m.Usage(l[0]); st.Tokens != 100 {
		t.Errorf("tokens at t0+59.999s = %d, want 100", st.Tokens)
	}
	clk.set(t0.Add(60 * time.Second))
	if st := m.Usage(l[0]); st.Tokens != 70 {
		t.Errorf("tokens at t0+60s = %d, want 70", st.Tokens)
	}
	mustRefuse(t, m, l, Ask{Tokens: 50})
	r := mustReserve(t, m, l, Ask{Tokens: 30})

	// In flight plus counted: waiting for the counted tokens is enough
	// when the reservation and the ask fit together.
	ref = mustRefuse(t, m, l, Ask{Tokens: 40})
	if want := 10 * time.Second; ref.RetryAfter != want || ref.TokensReserved != 30 || ref.TokensUsed != 70 {
		t.Errorf("refusal with 30 in flight: %+v, want RetryAfter %v", *ref, want)
	}
	r.Settle(Ask{Tokens: 30})
	clk.set(t0.Add(200 * time.Second))
	if st := m.Usage(l[0]); st.Tokens != 0 {
		t.Errorf("tokens after 2 idle minutes = %d, want 0", st.Tokens)
	}
	use(100)
}

func TestDayAndMonthRollover(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)
	clk := newClock(end.Add(-24 * time.Hour))
	m := New(clk.now)
	l := []Limit{{Rule: "r", Key: "k", Daily: usd("1"), Monthly: usd("1.5")}}
	spend := func(s string) { mustReserve(t, m, l, Ask{Cost: usd(s)}).Settle(Ask{Cost: usd(s)}) }

	spend("0.8") // January 30
	ref := mustRefuse(t, m, l, Ask{Cost: usd("0.3")})
	if ref.Kind != Daily || !ref.Reset.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) || ref.RetryAfter != time.Second {
		t.Errorf("daily refusal: %+v, want reset at Jan 31 midnight in 1s", *ref)
	}
	clk.set(end.Add(-time.Hour)) // January 31, 22:59:59
	spend("0.5")
	if st := m.Usage(l[0]); st.Daily != usd("0.5") || st.Monthly != usd("1.3") {
		t.Errorf("Jan 31: %+v, want 0.5 today, 1.3 this month", st)
	}
	ref = mustRefuse(t, m, l, Ask{Cost: usd("0.3")})
	wantReset := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if ref.Kind != Monthly || !ref.Reset.Equal(wantReset) || ref.RetryAfter != time.Hour+time.Second || ref.Spent != usd("1.3") {
		t.Errorf("monthly refusal: %+v, want reset %v", *ref, wantReset)
	}
	clk.set(end.Add(time.Second)) // February 1, 00:00:00
	if st := m.Usage(l[0]); !st.Daily.IsZero() || !st.Monthly.IsZero() ||
		!st.DailyReset.Equal(wantReset.Add(24*time.Hour)) || !st.MonthlyReset.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Feb 1: %+v, want nothing spent", st)
	}
	spend("1")
	// December to January crosses a year.
	if got := at(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)).nextMonth(); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("next month of December = %v", got)
	}
}

func TestBudgetBlockedByCallsInFlight(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	l := []Limit{{Rule: "r", Key: "k", Daily: usd("1")}}
	r := mustReserve(t, m, l, Ask{Cost: usd("0.7")})
	ref := mustRefuse(t, m, l, Ask{Cost: usd("0.5")})
	if ref.Kind != Daily || ref.RetryAfter != time.Second || ref.Reserved != usd("0.7") || !ref.Spent.IsZero() {
		t.Errorf("refusal behind a call in flight: %+v, want RetryAfter 1s", *ref)
	}
	r.Settle(Ask{Cost: usd("0.2")})
	mustReserve(t, m, l, Ask{Cost: usd("0.5")}).Settle(Ask{})
}

func TestMostBindingRefusal(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	toks := tpm("fast", "consumer:alice", 10)
	month := Limit{Rule: "budget", Key: "consumer:alice", Monthly: usd("1")}
	mustReserve(t, m, []Limit{toks, month}, Ask{Tokens: 10, Cost: usd("1")}).Settle(Ask{Tokens: 10, Cost: usd("1")})
	ref := mustRefuse(t, m, []Limit{toks, month}, Ask{Tokens: 1, Cost: usd("0.01")})
	if ref.Rule != "budget" || ref.Kind != Monthly {
		t.Errorf("refusal = %s/%s, want the monthly budget, which lasts longer than the minute", ref.Rule, ref.Kind)
	}
	never := tpm("tiny", "consumer:alice", 5)
	if ref := mustRefuse(t, m, []Limit{toks, month, never}, Ask{Tokens: 6}); ref.Rule != "tiny" || !ref.NeverFits {
		t.Errorf("refusal = %+v, want the one that never fits", *ref)
	}
}

func TestSameLimitTwice(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	l := tpm("r", "k", 100)
	mustReserve(t, m, []Limit{l, l}, Ask{Tokens: 60}).Settle(Ask{Tokens: 60})
	if st := m.Usage(l); st.Tokens != 60 {
		t.Errorf("tokens = %d, want 60 (counted once)", st.Tokens)
	}
}

func TestCountersOutliveRevisions(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	mustReserve(t, m, []Limit{tpm("r", "consumer:alice", 100)}, Ask{Tokens: 80}).Settle(Ask{Tokens: 80})
	// A reload lowers the cap of the same rule: the counted tokens stay.
	if ref := mustRefuse(t, m, []Limit{tpm("r", "consumer:alice", 90)}, Ask{Tokens: 20}); ref.TokensUsed != 80 {
		t.Errorf("after reload: %+v", *ref)
	}
	// Another rule, or another caller, counts apart.
	mustReserve(t, m, []Limit{tpm("other", "consumer:alice", 90)}, Ask{Tokens: 90}).Settle(Ask{})
	mustReserve(t, m, []Limit{tpm("r", "consumer:bob", 90)}, Ask{Tokens: 90}).Settle(Ask{})
}

func TestSeed(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	m := New(clk.now)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	m.Seed([]store.AISpendRow{
		{ConsumerID: "alice", TenantID: "acme", CredentialID: "key1", Day: day(14), CostPico: usd("0.40").Picodollars(), Tokens: 999},
		{ConsumerID: "alice", TenantID: "acme", CredentialID: "key2", Day: day(2), CostPico: usd("0.50").Picodollars()},
		{ConsumerID: "alice", Day: time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), CostPico: usd("10").Picodollars()},
		{ConsumerID: "bob", TenantID: "acme", Day: day(14), CostPico: usd("0.25").Picodollars()},
	})
	tests := []struct {
		key          string
		daily, month string
	}{
		{"consumer:alice", "0.4", "0.9"},
		{"tenant:acme", "0.65", "1.15"},
		{"credential:key1", "0.4", "0.4"},
		{"credential:key2", "0", "0.5"},
		{"consumer:bob", "0.25", "0.25"},
		{"consumer:carol", "0", "0"},
	}
	for _, tt := range tests {
		for _, rule := range []string{"everyone", "pro"} { // every rule with the key sees the seed
			st := m.Usage(Limit{Rule: rule, Key: tt.key})
			if st.Daily != usd(tt.daily) || st.Monthly != usd(tt.month) {
				t.Errorf("%s %s: daily %s monthly %s, want %s %s", rule, tt.key, st.Daily, st.Monthly, tt.daily, tt.month)
			}
		}
	}
	l := []Limit{{Rule: "everyone", Key: "consumer:alice", Daily: usd("0.5"), Monthly: usd("2")}}
	ref := mustRefuse(t, m, l, Ask{Cost: usd("0.2")})
	if ref.Kind != Daily || ref.Spent != usd("0.4") {
		t.Errorf("refusal = %+v, want daily with 0.4 spent", *ref)
	}
	mustReserve(t, m, l, Ask{Cost: usd("0.1")}).Settle(Ask{Cost: usd("0.1")})
	if st := m.Usage(l[0]); st.Daily != usd("0.5") || st.Monthly != usd("1") {
		t.Errorf("after a call: %+v, want 0.5 and 1 (seed + counted)", st)
	}

	// A second Seed adds.
	m.Seed([]store.AISpendRow{{ConsumerID: "carol", Day: day(14), CostPico: 7}})
	if st := m.Usage(Limit{Rule: "x", Key: "consumer:alice"}); st.Monthly != usd("0.9") {
		t.Errorf("alice after a second Seed: %+v", st)
	}
	if st := m.Usage(Limit{Rule: "x", Key: "consumer:carol"}); st.Monthly.Picodollars() != 7 {
		t.Errorf("carol after a second Seed: %+v", st)
	}

	// The next day keeps the month's seed, not the day's.
	clk.set(day(15))
	if st := m.Usage(Limit{Rule: "x", Key: "consumer:alice"}); !st.Daily.IsZero() || st.Monthly != usd("0.9") {
		t.Errorf("next day: %+v, want 0 today, 0.9 this month", st)
	}
	// The next month forgets it.
	clk.set(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if st := m.Usage(Limit{Rule: "x", Key: "consumer:alice"}); !st.Daily.IsZero() || !st.Monthly.IsZero() {
		t.Errorf("next month: %+v, want nothing", st)
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	m := New(clk.now)
	count := func() (entries, windows int) {
		for i := range m.shards {
			sh := &m.shards[i]
			sh.mu.Lock()
			for _, e := range sh.entries {
				entries++
				if e.window != nil {
					windows++
				}
			}
			sh.mu.Unlock()
		}
		return
	}
	const keys = 2000
	held := mustReserve(t, m, []Limit{tpm("r", "held", 1000)}, Ask{Tokens: 5})
	for i := range keys {
		l := Limit{Rule: "r", Key: fmt.Sprint("k", i), TokensPerMinute: 1000, Daily: usd("1")}
		cost := pricing.Money{}
		if i%4 == 0 {
			cost = usd("0.01")
		}
		mustReserve(t, m, []Limit{l}, Ask{Tokens: 10}).Settle(Ask{Tokens: 10, Cost: cost})
	}
	if e, w := count(); e != keys+1 || w != keys {
		t.Fatalf("before: %d counters, %d windows", e, w)
	}
	// Two minutes later every shard is due: a call sweeps its own shard.
	clk.add(2 * time.Minute)
	touch := tpm("touch", "t", 1000)
	mustReserve(t, m, []Limit{touch}, Ask{}).Settle(Ask{})
	s := m.shardOf(&touch)
	for k, e := range m.shards[s].entries {
		if e.window != nil || (e.daySpend.IsZero() && k != entryKey{"touch", "t"} && k != entryKey{"r", "held"}) {
			t.Errorf("shard %d not swept: %v has window %v, spend %s", s, k, e.window != nil, e.daySpend)
		}
	}
	for i := range m.shards {
		m.sweep(i, at(clk.now()))
	}
	// Kept: the quarter with spend this month and the one in flight.
	if e, w := count(); e != keys/4+1 || w != 0 {
		t.Errorf("after the sweep: %d counters, %d windows; want %d, 0", e, w, keys/4+1)
	}
	if st := m.Usage(Limit{Rule: "r", Key: "k0", Daily: usd("1")}); st.Daily != usd("0.01") {
		t.Errorf("a swept caller lost its spend: %+v", st)
	}
	held.Settle(Ask{Tokens: 5})
	if st := m.Usage(tpm("r", "held", 1000)); st.Tokens != 5 || st.InFlight != 0 {
		t.Errorf("the counter in flight during the sweep: %+v", st)
	}
	// The next month drops the rest.
	clk.set(time.Date(2026, 4, 1, 0, 5, 0, 0, time.UTC))
	for i := range m.shards {
		m.sweep(i, at(clk.now()))
	}
	if e, _ := count(); e != 0 {
		t.Errorf("%d counters left in a new month with nothing in flight", e)
	}
}

// TestConcurrentNeverOverAdmits runs 200 goroutines against shared limits
// and checks that the admitted asks never add up to more than a cap, with
// calls that reserve one, two or three limits in different orders (a lock
// order bug would deadlock here).
func TestConcurrentNeverOverAdmits(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now) // a frozen clock: nothing ages out
	shared := Limit{Rule: "everyone", Key: "tenant:acme", TokensPerMinute: 10_000, Daily: usd("3")}
	others := []Limit{
		{Rule: "pro", Key: "consumer:a", TokensPerMinute: 4_000},
		{Rule: "pro", Key: "consumer:b", TokensPerMinute: 4_000},
	}
	const goroutines, calls = 200, 50
	var (
		admittedTokens, admittedCalls atomic.Int64
		perOther                      [2]atomic.Int64
		wg                            sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				ask := Ask{Tokens: int64(1 + (g+i)%13), Cost: usd("0.001")}
				o := (g + i) % 2
				var limits []Limit
				switch (g * i) % 3 {
				case 0:
					limits = []Limit{shared}
				case 1:
					limits = []Limit{shared, others[o]}
				default:
					limits = []Limit{others[o], shared, others[1-o]}
				}
				r, ref := m.Reserve(limits, ask)
				if ref != nil {
					continue
				}
				admittedTokens.Add(ask.Tokens)
				admittedCalls.Add(1)
				for j, l := range others {
					for _, x := range limits {
						if x == l {
							perOther[j].Add(ask.Tokens)
						}
					}
				}
				// Half settle for less than they asked, which frees room.
				if i%2 == 0 {
					ask.Tokens /= 2
				}
				r.Settle(ask)
			}
		})
	}
	wg.Wait()
	st := m.Usage(shared)
	if st.InFlight != 0 || st.ReservedTokens != 0 {
		t.Errorf("after every call settled: %+v", st)
	}
	if st.Tokens > shared.TokensPerMinute {
		t.Errorf("counted %d tokens, over the cap %d", st.Tokens, shared.TokensPerMinute)
	}
	if got := usd("0.001").Picodollars() * admittedCalls.Load(); got > shared.Daily.Picodollars() || st.Daily.Picodollars() != got {
		t.Errorf("admitted $%s (counted %s), budget %s", pricing.FromPicodollars(got), st.Daily, shared.Daily)
	}
	// Every call settles at most what it asked, so the asks admitted can
	// exceed the cap only by what settled below its ask; the counted total
	// can never.
	for j, l := range others {
		if st := m.Usage(l); st.Tokens > l.TokensPerMinute || st.Tokens > perOther[j].Load() {
			t.Errorf("%s: counted %d (admitted asks %d), cap %d", l.Key, st.Tokens, perOther[j].Load(), l.TokensPerMinute)
		}
	}
	if admittedCalls.Load() == 0 || admittedCalls.Load() == goroutines*calls {
		t.Errorf("%d of %d calls admitted: the cap was never reached or nothing passed", admittedCalls.Load(), goroutines*calls)
	}
}

// TestConcurrentExactAdmission: with every call settling exactly its ask,
// the number admitted is fixed whatever the interleaving.
func TestConcurrentExactAdmission(t *testing.T) {
	t.Parallel()
	m := New(newClock(t0).now)
	l := []Limit{{Rule: "r", Key: "consumer:alice", TokensPerMinute: 1000}}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			for range 5 {
				r, ref := m.Reserve(l, Ask{Tokens: 7})
				if ref == nil {
					admitted.Add(1)
					r.Settle(Ask{Tokens: 7})
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 1000/7 {
		t.Errorf("admitted %d calls of 7 tokens under a cap of 1000, want %d", got, 1000/7)
	}
	if st := m.Usage(l[0]); st.Tokens != 1000/7*7 {
		t.Errorf("counted %d tokens, want %d", st.Tokens, 1000/7*7)
	}
}

func BenchmarkReserveSettle(b *testing.B) {
	ask, used := Ask{Tokens: 100, Cost: usd("0.0001")}, Ask{Tokens: 80, Cost: usd("0.00008")}
	one := []Limit{{Rule: "everyone", Key: "consumer:alice", TokensPerMinute: 1 << 40, Daily: usd("1000000")}}
	two := []Limit{one[0], {Rule: "tenant", Key: "tenant:acme", TokensPerMinute: 1 << 40}}
	for _, bc := range []struct {
		name   string
		limits []Limit
	}{{"1limit", one}, {"2limits", two}} {
		b.Run(bc.name, func(b *testing.B) {
			m := New(nil)
			b.ReportAllocs()
			for b.Loop() {
				r, ref := m.Reserve(bc.limits, ask)
				if ref != nil {
					b.Fatal(ref)
				}
				r.Settle(used)
			}
		})
	}
	b.Run("1limit/fixed-clock", func(b *testing.B) {
		// Without the two time.Now calls, whose cost depends on the host.
		m := New(newClock(t0).now)
		b.ReportAllocs()
		for b.Loop() {
			r, _ := m.Reserve(one, ask)
			r.Settle(used)
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			_ = time.Now()
		}
	})
	b.Run("parallel/1000keys", func(b *testing.B) {
		m := New(nil)
		keys := make([][]Limit, 1000)
		for i := range keys {
			keys[i] = []Limit{{Rule: "everyone", Key: fmt.Sprint("consumer:", i), TokensPerMinute: 1 << 40, Daily: usd("1000000")}}
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1))
			for pb.Next() {
				i++
				r, _ := m.Reserve(keys[i%len(keys)], ask)
				r.Settle(used)
			}
		})
	})
	b.Run("parallel/1key", func(b *testing.B) {
		m := New(nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, _ := m.Reserve(one, ask)
				r.Settle(used)
			}
		})
	})
}
