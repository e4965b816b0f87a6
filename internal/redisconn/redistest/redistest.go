// Package redistest gives tests a connection to the machine's Redis
// (127.0.0.1:6379, or $PINPOINT_TEST_REDIS_URL). When Redis is absent the
// test is skipped with a message, except under CI=true, where it fails.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
)

// URL is the Redis server tests use.
func URL() string {
	if u := os.Getenv("PINPOINT_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Config returns a redis block for URL with a key prefix unique to this
// test, so parallel tests never share keys. Its keys are deleted when the
// test ends.
func Config(t testing.TB) *config.Redis {
	t.Helper()
	Require(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	c := &config.Redis{
		URL:         URL(),
		DialTimeout: config.Duration(time.Second),
		Timeout:     config.Duration(time.Second),
		KeyPrefix:   "pptest:" + hex.EncodeToString(b[:]) + ":",
	}
	t.Cleanup(func() { cleanup(c) })
	return c
}

// Client opens a client for Config(t), closed when the test ends.
func Client(t testing.TB) *redisconn.Client {
	t.Helper()
	c, err := redisconn.Open(Config(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Require skips (or, under CI=true, fails) the test when Redis does not
// answer a PING.
func Require(t testing.TB) {
	t.Helper()
	c, err := redisconn.Open(&config.Redis{URL: URL(), Timeout: config.Duration(time.Second), DialTimeout: config.Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is required under CI=true: %v", URL(), err)
		}
		t.Skipf("Redis at %s is not reachable (%v); start it to run this test", URL(), err)
	}
}

// DeadConfig is a redis block pointing at a port nothing listens on, with
// short timeouts: for outage tests.
func DeadConfig() *config.Redis {
	return &config.Redis{
		URL:         "redis://127.0.0.1:1/0",
		DialTimeout: config.Duration(50 * time.Millisecond),
		Timeout:     config.Duration(50 * time.Millisecond),
		KeyPrefix:   "pptest:dead:",
	}
}

func cleanup(c *config.Redis) {
	cl, err := redisconn.Open(c)
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := cl.Scan(ctx, 0, c.KeyPrefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		cl.Del(ctx, keys...)
	}
}
