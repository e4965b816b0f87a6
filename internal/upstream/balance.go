package upstream

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Balance algorithms (config.Upstream.Balance).
const (
	BalanceRoundRobin       = "round_robin"
	BalanceLeastConnections = "least_connections"
	BalanceConsistentHash   = "consistent_hash"
	BalanceRandom           = "random"
)

// balancer picks a target that is usable at now and not in tried, or nil.
type balancer interface {
	pick(x *pipeline.Exchange, now int64, tried []*target) *target
}

// eligible reports whether t may be picked: usable and not already tried.
func eligible(t *target, now int64, tried []*target) bool {
	return t.usable(now) && !slices.Contains(tried, t)
}

func (u *Upstream) setBalance(balance, hashOn string) error {
	switch balance {
	case "", BalanceRoundRobin:
		u.bal = newRoundRobin(u.targets)
	case BalanceLeastConnections:
		u.bal = &leastConn{rr: newRoundRobin(u.targets)}
	case BalanceRandom:
		u.bal = &random{targets: u.targets, intn: rand.IntN}
	case BalanceConsistentHash:
		k, err := parseHashOn(hashOn)
		if err != nil {
			return err
		}
		u.key = k
		u.bal = &consistentHash{ring: newRing(u.targets), key: k}
	default:
		return fmt.Errorf("balance %q: want round_robin, least_connections, consistent_hash or random", balance)
	}
	if hashOn != "" && balance != BalanceConsistentHash {
		return fmt.Errorf("hash_on %q is only used with balance consistent_hash", hashOn)
	}
	return nil
}

// roundRobin is nginx's smooth weighted round robin: every pick adds each
// eligible target's weight to its current value, takes the largest and
// subtracts the total from it. Weights 5/1/1 give a a b a c a a, not
// a a a a a b c, so a heavy target never gets a burst.
type roundRobin struct {
	targets []*target
	mu      sync.Mutex
	current []int
}

func newRoundRobin(ts []*target) *roundRobin {
	return &roundRobin{targets: ts, current: make([]int, len(ts))}
}

func (b *roundRobin) pick(_ *pipeline.Exchange, now int64, tried []*target) *target {
	if len(b.targets) == 1 {
		if t := b.targets[0]; eligible(t, now, tried) {
			return t
		}
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pickLocked(now, tried, nil)
}

// pickLocked runs one smooth round-robin step over the eligible targets for
// which in (when non-nil) is true.
func (b *roundRobin) pickLocked(now int64, tried []*target, in func(*target) bool) *target {
	total, best := 0, -1
	for i, t := range b.targets {
		if !eligible(t, now, tried) || (in != nil && !in(t)) {
			continue
		}
		b.current[i] += t.weight
		total += t.weight
		if best < 0 || b.current[i] > b.current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b.current[best] -= total
	return b.targets[best]
}

// leastConn picks the target with the fewest in-flight requests per unit of
// weight (a target of weight 2 with 4 requests ties one of weight 1 with 2).
// Ties are broken by smooth weighted round robin, so an idle upstream spreads
// requests by weight.
type leastConn struct {
	rr *roundRobin
}

func (b *leastConn) pick(_ *pipeline.Exchange, now int64, tried []*target) *target {
	var best *target
	var bestLoad int64
	for _, t := range b.rr.targets {
		if !eligible(t, now, tried) {
			continue
		}
		load := t.inflight.Load()
		// load/weight < bestLoad/best.weight, without division.
		if best == nil || load*int64(best.weight) < bestLoad*int64(t.weight) {
			best, bestLoad = t, load
		}
	}
	if best == nil {
		return nil
	}
	b.rr.mu.Lock()
	defer b.rr.mu.Unlock()
	tied := func(t *target) bool {
		return t.inflight.Load()*int64(best.weight) == bestLoad*int64(t.weight)
	}
	if t := b.rr.pickLocked(now, tried, tied); t != nil {
		return t
	}
	// Loads moved between the two passes; the first pass's choice stands.
	return best
}

// random picks an eligible target with probability proportional to its weight.
type random struct {
	targets []*target
	intn    func(n int) int
}

func (b *random) pick(_ *pipeline.Exchange, now int64, tried []*target) *target {
	total := 0
	for _, t := range b.targets {
		if eligible(t, now, tried) {
			total += t.weight
		}
	}
	if total == 0 {
		return nil
	}
	n := b.intn(total)
	for _, t := range b.targets {
		if !eligible(t, now, tried) {
			continue
		}
		if n < t.weight {
			return t
		}
		n -= t.weight
	}
	return nil
}

// hashKey says what consistent hashing hashes (config.Upstream.HashOn).
type hashKey struct {
	kind   byte   // 'i' client IP, 'h' header, 'p' path
	header string // canonical header name for 'h'
}

func parseHashOn(s string) (hashKey, error) {
	switch {
	case s == "" || s == "ip":
		return hashKey{kind: 'i'}, nil
	case s == "path":
		return hashKey{kind: 'p'}, nil
	case strings.HasPrefix(s, "header:"):
		name := strings.TrimSpace(strings.TrimPrefix(s, "header:"))
		if !validHeaderName(name) {
			return hashKey{}, fmt.Errorf("hash_on %q: header name is missing or invalid", s)
		}
		return hashKey{kind: 'h', header: http.CanonicalHeaderKey(name)}, nil
	}
	return hashKey{}, fmt.Errorf("hash_on %q: want ip, path or header:NAME", s)
}

// sum hashes the request's key. A missing header falls back to the client IP.
func (k hashKey) sum(x *pipeline.Exchange) uint64 {
	switch k.kind {
	case 'p':
		return hashString(x.Path)
	case 'h':
		if x.Request != nil {
			if v := x.Request.Header[k.header]; len(v) > 0 && v[0] != "" {
				return hashString(v[0])
			}
		}
	}
	ip := x.ClientIP.As16()
	return hashBytes(ip[:])
}
