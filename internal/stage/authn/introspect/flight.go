package introspect

import (
	"context"
	"sync"
)

// call is one introspection in flight, shared by every request that
// presents the same token meanwhile.
type call struct {
	done    chan struct{}
	ans     *answer
	err     error
	waiters int
	cancel  context.CancelFunc
}

// flights collapses concurrent lookups of one token into one call. The
// call runs on its own context (derived from base, which Close cancels) so
// that one caller going away does not fail the others; it is cancelled
// when every caller waiting for it has gone.
type flights struct {
	base  context.Context
	mu    sync.Mutex
	calls map[tokenKey]*call
}

func newFlights(base context.Context) *flights {
	return &flights{base: base, calls: map[tokenKey]*call{}}
}

// do returns the result of fn for k, running fn unless a call for k is in
// flight. It returns ctx.Err() when ctx ends first.
func (g *flights) do(ctx context.Context, k tokenKey, fn func(context.Context) (*answer, error)) (*answer, error) {
	g.mu.Lock()
	c := g.calls[k]
	if c == nil {
		cctx, cancel := context.WithCancel(g.base)
		c = &call{done: make(chan struct{}), cancel: cancel}
		g.calls[k] = c
		go func() {
			c.ans, c.err = fn(cctx)
			g.mu.Lock()
			if g.calls[k] == c {
				delete(g.calls, k)
			}
			g.mu.Unlock()
			cancel()
			close(c.done)
		}()
	}
	c.waiters++
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.ans, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			// Nobody wants the answer any more: stop the call, and let the
			// next request for this token start afresh.
			c.cancel()
			if g.calls[k] == c {
				delete(g.calls, k)
			}
		}
		g.mu.Unlock()
		return nil, ctx.Err()
	}
}

// waiting is the number of callers waiting for k (tests).
func (g *flights) waiting(k tokenKey) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.calls[k]; c != nil {
		return c.waiters
	}
	return 0
}
