package gcra

// Peek is Take without the charge, for simulated requests: it decides
// reqs at now exactly as Take would and sets each request's Fits, Charged
// and TAT to what Take would have left, but the store keeps its counters.
// Peek and Take see each other's effects only through the store, so a
// simulation never changes what a real request is told.
func (s *Store) Peek(now int64, reqs []Request) bool {
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
		if r := &reqs[i]; r.Fits {
			r.TAT, _ = r.Limit.Fits(r.TAT, now)
			r.Charged = true
		}
	}
	return true
}

// Unpeek undoes, in reqs only, what Peek would have charged (the
// counterpart of Return for a peeked request that a later check refused).
func Unpeek(reqs []Request) {
	for i := range reqs {
		if r := &reqs[i]; r.Charged {
			r.Charged = false
			r.TAT = r.Limit.Refund(r.TAT)
		}
	}
}
