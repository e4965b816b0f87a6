package gateway

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/tokens"
)

// BenchmarkAIChat is one non-streamed chat completion through the AI
// endpoint with key auth, a model alias, an access rule that meters
// tokens and a budget, and usage records: the gateway's share of the
// time and allocations (the fake and the client run in the same process,
// so compare with BenchmarkAIChatDirect).
func BenchmarkAIChat(b *testing.B) {
	f := newAIFixture(b, `  access:
    - {name: meter, tokens_per_minute: 100000000000, daily_budget_usd: "1000000"}
`)
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "An API gateway routes calls.", Usage: aitest.Usage{Input: 30, Output: 8}})
	benchChat(b, f.h.srv.URL+"/v1/chat/completions", "fast", "Bearer "+f.key)
}

// BenchmarkAIChatDirect is the same call sent to the fake directly.
func BenchmarkAIChatDirect(b *testing.B) {
	f := newAIFixture(b, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: "An API gateway routes calls.", Usage: aitest.Usage{Input: 30, Output: 8}})
	benchChat(b, f.fake.URL+"/v1/chat/completions", "gpt-4o-mini", "Bearer "+aiProviderKey)
}

func benchChat(b *testing.B, url, model, auth string) {
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"What does an API gateway do?"}],"max_tokens":64}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var sb strings.Builder
			_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d: %s", resp.StatusCode, sb.String())
				return
			}
		}
	})
}

// BenchmarkAIOpenStreamMemory measures the memory one open stream costs
// the gateway: n streams are held open (the fake stalls after a few
// chunks) through the gateway, through a bare httputil.ReverseProxy (the
// baseline) and directly to the fake; the difference of live heap
// (after a GC) and of goroutine stacks over the direct streams, divided
// by n, is reported per stream (the target is at most 64 KiB).
func BenchmarkAIOpenStreamMemory(b *testing.B) {
	const n = 400
	f := newAIFixture(b, "")
	f.fake.Script("gpt-4o-mini", aitest.Reply{Text: strings.Repeat("word ", 64), Chunks: 32, StallAfter: 4, Usage: aitest.Usage{Input: 5, Output: 64}})
	target, _ := url.Parse(f.fake.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: n}
	bare := httptest.NewServer(rp)
	defer bare.Close()
	// Streams the client cancels are counted with the tokenizer: load its
	// vocabulary before measuring, so it is not counted as a stream's.
	tokens.Count("gpt-4o-mini", []byte("warm up"))
	for range b.N {
		through := openStreams(b, n, f.h.srv.URL+"/v1/chat/completions", "fast", "Bearer "+f.key)
		proxied := openStreams(b, n, bare.URL+"/v1/chat/completions", "gpt-4o-mini", "Bearer "+aiProviderKey)
		direct := openStreams(b, n, f.fake.URL+"/v1/chat/completions", "gpt-4o-mini", "Bearer "+aiProviderKey)
		b.ReportMetric(float64(through.heap-direct.heap)/n, "heap-B/stream")
		b.ReportMetric(float64(through.stack-direct.stack)/n, "stack-B/stream")
		b.ReportMetric(float64(proxied.heap-direct.heap)/n, "bare-heap-B/stream")
		b.ReportMetric(float64(proxied.stack-direct.stack)/n, "bare-stack-B/stream")
	}
}

type memInUse struct{ heap, stack int64 }

// openStreams opens n streams, waits until each has its first chunks,
// measures heap and stacks in use, closes them and returns the increase
// over the memory in use before.
func openStreams(b *testing.B, n int, endpoint, model, auth string) memInUse {
	b.Helper()
	goroutines := runtime.NumGoroutine()
	before := inUse()
	body := `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"Write a long answer."}]}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	ctx, cancel := context.WithCancel(context.Background())
	var started, done sync.WaitGroup
	started.Add(n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(body))
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
			if err != nil {
				b.Errorf("stream %d: %v", i, err)
				started.Done()
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for seen := 0; sc.Scan(); {
				if strings.HasPrefix(sc.Text(), "data: ") {
					if seen++; seen == 3 {
						started.Done()
					}
				}
			}
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond)
	open := inUse()
	cancel()
	done.Wait()
	client.CloseIdleConnections()
	// Wait for the servers' side of the streams to wind down, so that the
	// next measurement starts from the same state.
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > goroutines+4 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return memInUse{open.heap - before.heap, open.stack - before.stack}
}

func inUse() memInUse {
	runtime.GC()
	runtime.GC() // the second empties sync.Pool victim caches
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memInUse{int64(m.HeapAlloc), int64(m.StackInuse)}
}
