package quota

import "context"

// Peek is Take without the count, for simulated requests: it reads the
// counters (from the store when they are not in memory yet) and decides
// items exactly as Take would, setting each item's Fits, Charged and Used
// to what Take would have left, but counts nothing. Nothing it does is
// flushed: a counter it loaded holds nothing pending.
func (c *Counter) Peek(ctx context.Context, items []Item) bool {
	for {
		for i := range items {
			c.prepare(ctx, &items[i])
		}
		var idx [16]int
		shards := c.lock(items, idx[:0])
		ok, retry := c.peek(items)
		c.unlock(shards)
		if !retry {
			return ok
		}
	}
}

func (c *Counter) peek(items []Item) (ok, retry bool) {
	admitted := true
	for i := range items {
		it := &items[i]
		if it.e.evicted {
			return false, true
		}
		used := it.e.base + it.e.pending
		it.Fits = used < it.Limit
		it.Charged, it.Used, it.Loaded = false, used, it.e.loaded
		if !it.Fits && it.Enforce {
			admitted = false
		}
	}
	if !admitted {
		return false, false
	}
	for i := range items {
		it := &items[i]
		it.Used++
		it.Charged = true
	}
	return true, false
}

// Unpeek undoes, in items only, what Peek would have counted (the
// counterpart of Return for a peeked request that a later check refused).
func Unpeek(items []Item) {
	for i := range items {
		if it := &items[i]; it.Charged {
			it.Charged = false
			it.Used--
		}
	}
}
