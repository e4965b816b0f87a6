package basic

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Defaults of the verification cache.
const (
	cacheSize = 10000
	cacheTTL  = 5 * time.Minute
)

// cacheKey identifies one successful verification: a SHA-256 over a
// per-process random salt, the user name, the password and the stored
// hash. The stored hash makes a changed credential (a new revision) miss;
// the salt keeps a memory dump from being a table of fast, unsalted
// password hashes; the plaintext password is never kept.
type cacheKey [sha256.Size]byte

// cache remembers successful verifications for a while, because argon2id
// and bcrypt are slow on purpose. Failures are never cached, so guessing
// stays as slow as the hash makes it. When full, a random entry is evicted
// (Go's map iteration starts at a random entry), which bounds memory
// without the bookkeeping of an LRU list.
type cache struct {
	salt [32]byte
	max  int
	ttl  time.Duration

	mu sync.RWMutex
	m  map[cacheKey]int64 // expiry, Unix nanoseconds
}

func newCache(max int, ttl time.Duration) *cache {
	c := &cache{max: max, ttl: ttl, m: make(map[cacheKey]int64)}
	_, _ = rand.Read(c.salt[:]) // crypto/rand.Read never fails (Go 1.24+)
	return c
}

// key derives the cache key. The user name is length-prefixed so that no
// two (user, password) pairs encode alike.
func (c *cache) key(user, password []byte, hash string) cacheKey {
	var stack [512]byte
	n := len(c.salt) + 4 + len(user) + 1 + len(password) + 1 + len(hash)
	buf := stack[:0]
	if n > len(stack) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, c.salt[:]...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(user)))
	buf = append(buf, user...)
	buf = append(buf, 0)
	buf = append(buf, password...)
	buf = append(buf, 0)
	buf = append(buf, hash...)
	k := cacheKey(sha256.Sum256(buf))
	clear(buf) // the password was in it
	return k
}

// hit reports whether k verified successfully less than ttl before now.
func (c *cache) hit(k cacheKey, now time.Time) bool {
	c.mu.RLock()
	exp, ok := c.m[k]
	c.mu.RUnlock()
	return ok && now.UnixNano() < exp
}

// add records a successful verification at now.
func (c *cache) add(k cacheKey, now time.Time) {
	t := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(t)
	}
	c.m[k] = t + int64(c.ttl)
}

// evict drops the expired entries among a few visited ones, or else the
// first one visited (a random entry).
func (c *cache) evict(now int64) {
	const look = 8
	var victim cacheKey
	seen, dropped := 0, 0
	for k, exp := range c.m {
		if seen == 0 {
			victim = k
		}
		if exp <= now {
			delete(c.m, k)
			dropped++
		}
		seen++
		if seen == look {
			break
		}
	}
	if dropped == 0 {
		delete(c.m, victim)
	}
}

// size returns the number of cached entries (for tests).
func (c *cache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
