package basic

import (
	"testing"
	"time"
)

func TestCacheHitSkipsTheHash(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	dir := testDirectory(testUsers(t))
	for i := range 3 {
		if _, _, d := run(m, dir, basicHeader("alice:correct horse battery")); d != nil {
			t.Fatalf("login %d: %s", i, d.Reason)
		}
	}
	if n := m.verifies.Load(); n != 1 {
		t.Errorf("hash computations for three logins = %d, want 1", n)
	}
}

// Regression: failures must not be cached, or a brute force would only pay
// the hash once per guess list instead of once per guess.
func TestCacheNeverRemembersFailures(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	dir := testDirectory(testUsers(t))
	for range 3 {
		run(m, dir, basicHeader("alice:wrong"))
		run(m, dir, basicHeader("nobody:wrong"))
	}
	if n := m.verifies.Load(); n != 6 {
		t.Errorf("hash computations = %d, want 6", n)
	}
	if n := m.cache.size(); n != 0 {
		t.Errorf("cache holds %d entries after failures", n)
	}
}

func TestCacheEntryExpires(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	dir := testDirectory(testUsers(t))
	login := func() {
		t.Helper()
		if _, _, d := run(m, dir, basicHeader("bob:s3cret")); d != nil {
			t.Fatal(d.Reason)
		}
	}
	login()
	now = now.Add(cacheTTL - time.Second)
	login()
	if n := m.verifies.Load(); n != 1 {
		t.Fatalf("within the TTL: hash computations = %d, want 1", n)
	}
	now = now.Add(2 * time.Second)
	login()
	if n := m.verifies.Load(); n != 2 {
		t.Fatalf("after the TTL: hash computations = %d, want 2", n)
	}
}

// Regression: after a password change (a new revision with a new hash) the
// old password must stop working at once, cache or not.
func TestCacheMissesAfterHashChange(t *testing.T) {
	t.Parallel()
	m := newTestMethod(t, nil)
	users := testUsers(t)
	dir := testDirectory(users)
	if _, _, d := run(m, dir, basicHeader("alice:correct horse battery")); d != nil {
		t.Fatal(d.Reason)
	}
	users[0].hash = argonPHC(t, "new password", 1024, 1, 1)
	dir2 := testDirectory(users)
	if _, _, d := run(m, dir2, basicHeader("alice:correct horse battery")); d == nil || d.Code != "authn.basic_invalid" {
		t.Fatalf("old password after a change: denial = %v", d)
	}
	if _, _, d := run(m, dir2, basicHeader("alice:new password")); d != nil {
		t.Fatalf("new password: %s", d.Reason)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newCache(16, time.Minute)
	now := time.Unix(1000, 0)
	var first cacheKey
	for i := range 100 {
		k := c.key([]byte{byte(i)}, []byte("pw"), "hash")
		if i == 0 {
			first = k
		}
		c.add(k, now)
	}
	if n := c.size(); n != 16 {
		t.Errorf("size = %d, want 16", n)
	}
	// Expired entries are evicted before live ones.
	later := now.Add(2 * time.Minute)
	fresh := c.key([]byte("fresh"), []byte("pw"), "hash")
	c.add(fresh, later)
	if !c.hit(fresh, later) {
		t.Error("fresh entry missing")
	}
	if c.hit(first, later) {
		t.Error("expired entry still hits")
	}
}

func TestCacheKeySeparatesFields(t *testing.T) {
	t.Parallel()
	c := newCache(4, time.Minute)
	a := c.key([]byte("ab"), []byte("c"), "h")
	b := c.key([]byte("a"), []byte("bc"), "h")
	d := c.key([]byte("a\x00b"), []byte("c"), "h")
	e := c.key([]byte("a"), []byte("b\x00c"), "h")
	if a == b || d == e {
		t.Error("distinct credentials share a cache key")
	}
	other := newCache(4, time.Minute)
	if other.key([]byte("ab"), []byte("c"), "h") == a {
		t.Error("cache keys are not salted per process")
	}
}
