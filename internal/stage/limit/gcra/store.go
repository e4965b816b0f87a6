package gcra

import (
	"hash/maphash"
	"slices"
	"sync"
)

// shardCount spreads keys over this many independently locked maps, so
// that concurrent requests of different callers rarely wait for each other.
const shardCount = 256

// minSweep is the size below which a shard is never swept.
const minSweep = 64

// Store is the node-local store of GCRA counters: for each (limit, caller)
// key, its TAT in Unix nanoseconds. It is safe for concurrent use. The
// gateway creates one Store and passes it to the limit stages of every
// config revision, so a reload does not reset anybody's count.
//
// Keys are 128-bit hashes (two maphash sums with independent random
// seeds) of the limit's identity and the caller; two different keys share
// a counter only if both 64-bit halves collide, which for a billion live
// keys happens with a probability below 10^-20. The key strings are not
// kept. A shard indexes counters by the first half and keeps the second
// in the slot to check it; the rare keys whose first half collides with a
// live key's go to a small overflow map, so such a collision never merges
// two callers.
//
// Memory is bounded without a goroutine: a key whose TAT has passed holds
// no information (its caller has the whole burst again), and a shard drops
// such keys when it grows past twice the size it had after its last sweep.
// A shard therefore holds at most about twice the keys active within
// their limits' tolerance, plus minSweep.
type Store struct {
	seeds  [2]maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu sync.Mutex
	// tat maps a key's first half to its second half and TAT; absent means
	// "not ahead of now".
	tat map[uint64]slot
	// over holds keys whose first half is taken by another key in tat.
	over map[Key]int64
	// sweepAt is the size at which the shard drops passed keys.
	sweepAt int
	_       [32]byte // keep shards on separate cache lines
}

type slot struct {
	lo, tat int64
}

// Where a key was found in its shard.
const (
	absentFree  = iota // not held, and its main slot is free
	absentTaken        // not held, and another key has its main slot
	inMain
	inOver
)

func (sh *shard) get(k Key) (tat int64, where uint8) {
	e, ok := sh.tat[k.Hi]
	if ok && e.lo == int64(k.Lo) {
		return e.tat, inMain
	}
	if len(sh.over) > 0 {
		if tat, ok := sh.over[k]; ok {
			return tat, inOver
		}
	}
	if ok {
		return 0, absentTaken
	}
	return 0, absentFree
}

func (sh *shard) set(k Key, where uint8, tat int64) {
	switch where {
	case inMain, absentFree:
		sh.tat[k.Hi] = slot{lo: int64(k.Lo), tat: tat}
	default:
		if sh.over == nil {
			sh.over = make(map[Key]int64)
		}
		sh.over[k] = tat
	}
}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for i := range s.shards {
		s.shards[i].tat = make(map[uint64]slot)
		s.shards[i].sweepAt = minSweep
	}
	return s
}

// Key identifies one counter of a Store: a 128-bit hash of the limit and
// the caller. Build it with Store.Key.
type Key struct{ Hi, Lo uint64 }

func (k Key) shard() int { return int(k.Hi >> 56) } // 256 shards: the top byte

// LimitID is a limit's identity in a store: a 128-bit hash of the parts
// that define it (route, name, rate). Compute it once, when the limit is
// compiled.
type LimitID [16]byte

// LimitID hashes parts, each written with its length so that ("ab", "c")
// and ("a", "bc") differ.
func (s *Store) LimitID(parts ...string) LimitID {
	var h [2]maphash.Hash
	for i := range h {
		h[i].SetSeed(s.seeds[i])
		for _, p := range parts {
			var n [4]byte
			n[0], n[1], n[2], n[3] = byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), byte(len(p)>>24)
			h[i].Write(n[:])
			h[i].WriteString(p)
		}
	}
	var id LimitID
	a, b := h[0].Sum64(), h[1].Sum64()
	for i := range 8 {
		id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	return id
}

// keyBuf is how long a caller value may be to be hashed from the stack in
// one piece; longer values are streamed.
const keyBuf = 112

// Key returns the key of the caller value of kind (a small number the
// caller picks per kind of key) under limit id. It does not allocate.
func (s *Store) Key(id LimitID, kind byte, value string) Key {
	if len(value) > keyBuf-len(id)-1 {
		return s.streamKey(id, kind, value, nil)
	}
	var buf [keyBuf]byte
	b := append(append(append(buf[:0], id[:]...), kind), value...)
	return Key{Hi: maphash.Bytes(s.seeds[0], b), Lo: maphash.Bytes(s.seeds[1], b)}
}

// KeyBytes is Key for a value held in bytes (an IP address).
func (s *Store) KeyBytes(id LimitID, kind byte, value []byte) Key {
	if len(value) > keyBuf-len(id)-1 {
		return s.streamKey(id, kind, "", value)
	}
	var buf [keyBuf]byte
	b := append(append(append(buf[:0], id[:]...), kind), value...)
	return Key{Hi: maphash.Bytes(s.seeds[0], b), Lo: maphash.Bytes(s.seeds[1], b)}
}

// streamKey hashes the same bytes as Key, for long values.
func (s *Store) streamKey(id LimitID, kind byte, vs string, vb []byte) Key {
	var h [2]maphash.Hash
	var sums [2]uint64
	for i := range h {
		h[i].SetSeed(s.seeds[i])
		h[i].Write(id[:])
		h[i].WriteByte(kind)
		h[i].WriteString(vs)
		h[i].Write(vb)
		sums[i] = h[i].Sum64()
	}
	return Key{Hi: sums[0], Lo: sums[1]}
}

// Request is one limit's part of a decision: the input (Key, Limit,
// Enforce) and what Take decided (Fits, TAT, Charged).
type Request struct {
	Key   Key
	Limit Limit
	// Enforce makes this limit refuse the whole request when it does not
	// fit. A limit in report_only mode that does not fit refuses nothing
	// and is left uncharged, so its would-deny count is what enforcing it
	// would refuse.
	Enforce bool

	// Fits is whether one more request fit this limit at now.
	Fits bool
	// Charged is whether Take charged this limit.
	Charged bool
	// TAT is the key's TAT after the decision.
	TAT int64

	where uint8 // where Take found the key in its shard
}

// Take decides one request against every limit of reqs at now (Unix
// nanoseconds), atomically: it locks the shards of all keys (in shard
// order, so two requests never deadlock), checks every limit, and only
// when every enforced limit fits charges each limit that fits. It returns
// false, charging nothing, when an enforced limit does not fit. Either way
// each request's Fits and TAT are set.
func (s *Store) Take(now int64, reqs []Request) bool {
	var idx [16]int
	shards := s.lock(reqs, idx[:0])
	defer s.unlock(shards)
	admitted := true
	for i := range reqs {
		r := &reqs[i]
		sh := &s.shards[r.Key.shard()]
		r.TAT, r.where = sh.get(r.Key)
		_, r.Fits = r.Limit.Fits(r.TAT, now)
		r.Charged = false
		if !r.Fits && r.Enforce {
			admitted = false
		}
	}
	if !admitted {
		return false
	}
	for i := range reqs {
		r := &reqs[i]
		if !r.Fits {
			continue
		}
		sh := &s.shards[r.Key.shard()]
		r.TAT, _ = r.Limit.Fits(r.TAT, now)
		r.Charged = true
		if r.where < inMain && len(sh.tat) >= sh.sweepAt {
			sh.sweep(now)
		}
		sh.set(r.Key, r.where, r.TAT)
	}
	return true
}

// Return gives back what Take charged to reqs, for a request that a later
// check (a quota, the Redis store) refused. A request admitted meanwhile
// under the charge is not undone; the error is towards refusing, never
// towards admitting more than the rate.
func (s *Store) Return(reqs []Request) {
	var idx [16]int
	shards := s.lock(reqs, idx[:0])
	defer s.unlock(shards)
	for i := range reqs {
		r := &reqs[i]
		if !r.Charged {
			continue
		}
		sh := &s.shards[r.Key.shard()]
		if tat, where := sh.get(r.Key); where >= inMain {
			sh.set(r.Key, where, r.Limit.Refund(tat))
		}
		r.Charged = false
		r.TAT = r.Limit.Refund(r.TAT)
	}
}

// lock locks the distinct shards of reqs in ascending order and returns
// them.
func (s *Store) lock(reqs []Request, idx []int) []int {
	for i := range reqs {
		idx = append(idx, reqs[i].Key.shard())
	}
	if len(idx) > 1 {
		slices.Sort(idx)
		idx = slices.Compact(idx)
	}
	for _, i := range idx {
		s.shards[i].mu.Lock()
	}
	return idx
}

func (s *Store) unlock(idx []int) {
	for _, i := range idx {
		s.shards[i].mu.Unlock()
	}
}

// sweep drops keys whose TAT is not ahead of now. The caller holds the lock.
func (sh *shard) sweep(now int64) {
	for k, e := range sh.tat {
		if e.tat <= now {
			delete(sh.tat, k)
		}
	}
	for k, tat := range sh.over {
		if tat <= now {
			delete(sh.over, k)
		}
	}
	sh.sweepAt = max(2*len(sh.tat), minSweep)
}

// Len returns the number of keys held, for metrics and tests.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.tat) + len(sh.over)
		sh.mu.Unlock()
	}
	return n
}
