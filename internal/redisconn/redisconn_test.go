package redisconn_test

import (
	"context"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
)

func TestOpenAppliesTheBlock(t *testing.T) {
	c := &config.Redis{URL: "redis://user:pw@cache.internal:6380/3", Timeout: config.Duration(40 * time.Millisecond), PoolSize: 7, KeyPrefix: "pp:"}
	cl, err := redisconn.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	o := cl.Options()
	if o.Addr != "cache.internal:6380" || o.DB != 3 || o.Username != "user" || o.Password != "pw" {
		t.Errorf("options %+v", o)
	}
	if o.PoolSize != 7 || o.ReadTimeout != 40*time.Millisecond || o.MaxRetries > 0 {
		t.Errorf("pool %d, read timeout %v, retries %d", o.PoolSize, o.ReadTimeout, o.MaxRetries)
	}
	if got := cl.Key("rl", "orders", "k"); got != "pp:rl:orders:k" {
		t.Errorf("Key = %q", got)
	}
	if !cl.Same(c) {
		t.Error("Same(own block) = false")
	}
	other := *c
	other.Timeout = config.Duration(time.Second)
	if cl.Same(&other) || cl.Same(nil) {
		t.Error("Same is true for another block")
	}
	if _, err := redisconn.Open(&config.Redis{URL: "http://nope"}); err == nil {
		t.Error("an http:// URL opened")
	}
}

func TestPing(t *testing.T) {
	cl := redistest.Client(t)
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	dead, err := redisconn.Open(redistest.DeadConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if err := dead.Ping(context.Background()); err == nil {
		t.Fatal("ping of a dead port succeeded")
	}
}
