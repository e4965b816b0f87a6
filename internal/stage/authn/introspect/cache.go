package introspect

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenKey identifies a token in the cache and in flight: its SHA-256, so
// the token itself is never kept.
type tokenKey [sha256.Size]byte

// entry is one cached answer.
type entry struct {
	key        tokenKey
	ans        *answer
	fresh      time.Time // used without asking the endpoint until then
	stale      time.Time // used when the endpoint fails, until then
	prev, next *entry
}

// cache is a bounded LRU of answers. Lookups do not allocate.
type cache struct {
	mu         sync.Mutex
	max        int
	items      map[tokenKey]*entry
	head, tail *entry // head is the most recently used
}

func newCache(max int) *cache {
	return &cache{max: max, items: make(map[tokenKey]*entry, min(max, 1024))}
}

// get returns the cached answer of k and its bounds, marking it used.
func (c *cache) get(k tokenKey) (ans *answer, fresh, stale time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.items[k]
	if e == nil {
		return nil, time.Time{}, time.Time{}, false
	}
	c.moveToFront(e)
	return e.ans, e.fresh, e.stale, true
}

// put stores the answer of k, evicting the least recently used entry
// beyond max.
func (c *cache) put(k tokenKey, ans *answer, fresh, stale time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.items[k]; e != nil {
		e.ans, e.fresh, e.stale = ans, fresh, stale
		c.moveToFront(e)
		return
	}
	e := &entry{key: k, ans: ans, fresh: fresh, stale: stale}
	c.items[k] = e
	c.pushFront(e)
	for len(c.items) > c.max {
		old := c.tail
		c.unlink(old)
		delete(c.items, old.key)
	}
}

// len is the number of cached answers.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *cache) moveToFront(e *entry) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *cache) pushFront(e *entry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *cache) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
