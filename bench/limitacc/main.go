// Command limitacc measures how exactly the limit stage enforces a rate
// limit in real time: callers offer twice the rate for a while, and the
// requests admitted after the burst is used up are compared with what the
// limit allows. It runs the local store (one gateway node) and the Redis
// store shared by two stage instances (two gateway nodes, each with its
// own local store and connection pool).
//
//	go run ./bench/limitacc                       # 10s per scenario, 100/s
//	go run ./bench/limitacc -duration 3s -rate 1000 -redis redis://127.0.0.1:6379/0
//
// It prints a Markdown table. The Redis scenario is skipped when the
// server does not answer; its keys are deleted afterwards.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/stage/limit"
	"github.com/pinpointgw/pinpoint/internal/stage/limit/gcra"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "measured window per scenario")
	warm := flag.Duration("warmup", 2*time.Second, "overload before the window, to use up the burst")
	rate := flag.Int("rate", 100, "the limit, in requests per second")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", `Redis for the shared scenario ("" skips it)`)
	flag.Parse()
	if err := run(*duration, *warm, *rate, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "limitacc:", err)
		os.Exit(1)
	}
}

// result is one scenario's measurement.
type result struct {
	name              string
	offered, admitted int64
	allowed           float64
	p50, p99          time.Duration
	note              string
}

func run(window, warm time.Duration, rate int, redisURL string) error {
	limitCfg := config.RateLimit{Name: "acc", Rate: fmt.Sprintf("%d/s", rate), Key: "consumer"}
	var results []result

	local, err := newStage(limitCfg, nil)
	if err != nil {
		return err
	}
	results = append(results, measure("local store, 1 node", []*limit.Stage{local}, rate, warm, window))

	if redisURL != "" {
		r, err := measureRedis(limitCfg, redisURL, rate, warm, window)
		if err != nil {
			results = append(results, result{name: "redis store, 2 nodes", note: "skipped: " + err.Error()})
		} else {
			results = append(results, r)
		}
	}

	fmt.Printf("Rate limit %d/s (burst %d), offered at 2× for %v after %v of warm-up.\n\n", rate, rate, window, warm)
	fmt.Println("| scenario | offered | admitted | limit allows | deviation | decision p50 | decision p99 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		if r.note != "" {
			fmt.Printf("| %s | %s | | | | | |\n", r.name, r.note)
			continue
		}
		dev := 100 * (float64(r.admitted) - r.allowed) / r.allowed
		fmt.Printf("| %s | %d | %d | %.0f | %+.2f%% | %v | %v |\n", r.name, r.offered, r.admitted, r.allowed, dev, r.p50, r.p99)
	}
	return nil
}

func newStage(l config.RateLimit, c *redisconn.Client) (*limit.Stage, error) {
	return limit.New("bench", []config.RateLimit{l}, nil, limit.Deps{Rates: gcra.NewStore(), Redis: c})
}

func measureRedis(l config.RateLimit, url string, rate int, warm, window time.Duration) (result, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg := &config.Redis{URL: url, Timeout: config.Duration(time.Second), DialTimeout: config.Duration(time.Second),
		KeyPrefix: "pplimitacc:" + hex.EncodeToString(b[:]) + ":"}
	l.Store = "redis"
	var stages []*limit.Stage
	var clients []*redisconn.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range 2 {
		c, err := redisconn.Open(cfg)
		if err != nil {
			return result{}, err
		}
		clients = append(clients, c)
		if err := c.Ping(context.Background()); err != nil {
			return result{}, err
		}
		s, err := newStage(l, c)
		if err != nil {
			return result{}, err
		}
		stages = append(stages, s)
	}
	r := measure("redis store, 2 nodes", stages, rate, warm, window)
	ctx := context.Background()
	keys, _ := clients[0].Keys(ctx, cfg.KeyPrefix+"*").Result()
	if len(keys) > 0 {
		clients[0].Del(ctx, keys...)
	}
	if r.offered > 0 && r.admitted == 0 {
		return r, fmt.Errorf("nothing admitted: is Redis answering?")
	}
	return r, nil
}

// measure offers 2×rate requests per second, split evenly over the stages
// (one sender each), and counts what the window admits.
func measure(name string, stages []*limit.Stage, rate int, warm, window time.Duration) result {
	start := time.Now()
	from, end := start.Add(warm), start.Add(warm+window)
	perSender := time.Second / time.Duration(2*rate/len(stages))
	var offered, admitted atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for i, s := range stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := exchange()
			var mine []time.Duration
			// Senders are offset by half a gap so arrivals interleave.
			next := start.Add(time.Duration(i) * perSender / time.Duration(len(stages)))
			for {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				now := time.Now()
				if !now.Before(end) {
					break
				}
				x.Trace = x.Trace[:0]
				clear(x.ResponseHeader)
				t := time.Now()
				d := s.Handle(x)
				took := time.Since(t)
				if !now.Before(from) {
					offered.Add(1)
					mine = append(mine, took)
					if !d.Denied() {
						admitted.Add(1)
					}
				}
				next = next.Add(perSender)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	r := result{name: name, offered: offered.Load(), admitted: admitted.Load(), allowed: float64(rate) * window.Seconds()}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}

// exchange is one caller's request as the stages before limit leave it.
func exchange() *pipeline.Exchange {
	return &pipeline.Exchange{
		Request:        httptest.NewRequest("GET", "/bench", nil),
		ClientIP:       netip.MustParseAddr("192.0.2.1"),
		ResponseHeader: http.Header{},
		Identity:       pipeline.Identity{Authenticated: true, CredentialID: "k1", ConsumerID: "c1"},
	}
}
