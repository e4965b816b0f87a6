// Package redisconn opens the Redis client that shared counters (rate
// limits, quotas, idempotency records with store: redis) use, from the
// config's redis block.
package redisconn

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Client is a Redis connection and the prefix of every key written
// through it.
type Client struct {
	*redis.Client
	// Prefix starts every key (redis.key_prefix, default "pinpoint:").
	Prefix string
	// Timeout bounds one command (redis.timeout).
	Timeout time.Duration
	// cfg is what the client was opened with, to reuse it across revisions.
	cfg config.Redis
}

// Open creates a client for c. It does not connect: go-redis dials lazily,
// so an unreachable server never fails an apply; each command reports it.
func Open(c *config.Redis) (*Client, error) {
	opt, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	opt.DialTimeout = c.DialTimeout.Or(200 * time.Millisecond)
	timeout := c.Timeout.Or(100 * time.Millisecond)
	opt.ReadTimeout, opt.WriteTimeout = timeout, timeout
	opt.PoolTimeout = timeout
	opt.PoolSize = c.PoolSize
	if opt.PoolSize == 0 {
		opt.PoolSize = 10 * runtime.GOMAXPROCS(0)
	}
	// Counters must not wait on a dead server: one attempt, then the
	// limit's on_store_error decides.
	opt.MaxRetries = -1
	prefix := c.KeyPrefix
	if prefix == "" {
		prefix = "pinpoint:"
	}
	return &Client{Client: redis.NewClient(opt), Prefix: prefix, Timeout: timeout, cfg: *c}, nil
}

// Same reports whether the client was opened with exactly c, so a new
// revision can keep the connection pool.
func (c *Client) Same(cfg *config.Redis) bool {
	return cfg != nil && c.cfg == *cfg
}

// Ping checks the connection within the command timeout.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	return c.Client.Ping(ctx).Err()
}

// Key returns the prefixed key for parts joined by ':'.
func (c *Client) Key(parts ...string) string {
	n := len(c.Prefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, c.Prefix...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, p...)
	}
	return string(b)
}
