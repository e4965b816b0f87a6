package calllog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "calls.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func call(i int) store.Call {
	return store.Call{
		Time: time.Now(), RequestID: fmt.Sprintf("req-%d", i), Route: "orders", Method: "GET",
		Host: "api.example.com", Path: "/orders", Status: 200, ClientIP: "203.0.113.7",
	}
}

func countCalls(t *testing.T, s store.CallLog) int {
	t.Helper()
	got, err := s.QueryCalls(t.Context(), store.CallQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRecordsArrive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		batchSize     int
		records       int
		beforeTimer   int // stored without any time passing
		afterInterval int // stored once FlushInterval has passed
	}{
		{"full batches are stored at once", 4, 8, 8, 8},
		{"a partial batch waits for the interval", 256, 3, 0, 3},
		{"full batches now, the rest at the interval", 4, 10, 8, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := openStore(t)
				w := New(s, Options{BatchSize: tt.batchSize, FlushInterval: time.Second})
				for i := range tt.records {
					if !w.Log(call(i)) {
						t.Fatalf("Log(%d) refused", i)
					}
				}
				synctest.Wait()
				if got := countCalls(t, s); got != tt.beforeTimer || w.Written() != uint64(got) {
					t.Errorf("before the interval: %d stored, Written %d; want %d", got, w.Written(), tt.beforeTimer)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if got := countCalls(t, s); got != tt.afterInterval || w.Written() != uint64(got) {
					t.Errorf("after the interval: %d stored, Written %d; want %d", got, w.Written(), tt.afterInterval)
				}
				closeWriter(t, w)
				if w.Dropped() != 0 || w.Failed() != 0 {
					t.Errorf("Dropped %d, Failed %d; want 0", w.Dropped(), w.Failed())
				}
			})
		})
	}
}

// slowStore is a real store whose InsertCalls waits for release: it stands in
// for a disk or database that has stalled.
type slowStore struct {
	store.CallLog
	entered chan struct{} // receives once per InsertCalls call
	release chan struct{} // closed to let InsertCalls proceed
}

func (s *slowStore) InsertCalls(ctx context.Context, calls []store.Call) error {
	s.entered <- struct{}{}
	select {
	case <-s.release:
		return s.CallLog.InsertCalls(ctx, calls)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestLogNeverBlocksWhenStoreIsSlow(t *testing.T) {
	t.Parallel()
	// Inside the bubble, a Log that blocked would leave every goroutine
	// blocked and synctest would fail the test as a deadlock.
	synctest.Test(t, func(t *testing.T) {
		const buffer, extra = 100, 7
		real := openStore(t)
		slow := &slowStore{CallLog: real, entered: make(chan struct{}, 1000), release: make(chan struct{})}
		w := New(slow, Options{Buffer: buffer, BatchSize: 1})

		w.Log(call(0))
		<-slow.entered // the writer is now stuck storing record 0; the buffer is empty

		accepted := 0
		for i := range buffer + extra {
			if w.Log(call(i + 1)) {
				accepted++
			}
		}
		if accepted != buffer || w.Dropped() != extra {
			t.Errorf("accepted %d, Dropped %d; want %d and %d", accepted, w.Dropped(), buffer, extra)
		}

		close(slow.release)
		closeWriter(t, w)
		if got := countCalls(t, real); got != buffer+1 || w.Written() != buffer+1 {
			t.Errorf("%d stored, Written %d; want %d", got, w.Written(), buffer+1)
		}
	})
}

func TestCloseFlushesAndRefusesMore(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	w := New(s, Options{BatchSize: 1000, FlushInterval: time.Hour})
	for i := range 500 {
		w.Log(call(i))
	}
	closeWriter(t, w)
	if got := countCalls(t, s); got != 500 || w.Written() != 500 {
		t.Errorf("%d stored, Written %d; want 500", got, w.Written())
	}
	if w.Log(call(501)) {
		t.Error("Log after Close accepted a record")
	}
	if w.Dropped() != 1 {
		t.Errorf("Dropped = %d, want 1", w.Dropped())
	}
	closeWriter(t, w) // a second Close is harmless
}

func TestCloseGivesUpWithContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		real := openStore(t)
		slow := &slowStore{CallLog: real, entered: make(chan struct{}, 1000), release: make(chan struct{})}
		w := New(slow, Options{BatchSize: 1})
		for i := range 10 {
			w.Log(call(i))
		}
		<-slow.entered

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
		}
		synctest.Wait()
		if w.Failed() != 10 || w.Written() != 0 {
			t.Errorf("Failed %d, Written %d; want 10 and 0", w.Failed(), w.Written())
		}
		if got := countCalls(t, real); got != 0 {
			t.Errorf("%d records stored after Close gave up", got)
		}
		if err := w.Close(t.Context()); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
}

// downStore is a real store behind a shim that fails every InsertCalls while
// down is set, as a database does while it is unreachable. It records the
// request IDs it stored, in order.
type downStore struct {
	store.CallLog
	down     atomic.Bool
	attempts atomic.Int32
	mu       sync.Mutex
	stored   []string
}

func (s *downStore) InsertCalls(ctx context.Context, calls []store.Call) error {
	s.attempts.Add(1)
	if s.down.Load() {
		return errors.New("connection refused")
	}
	if err := s.CallLog.InsertCalls(ctx, calls); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range calls {
		s.stored = append(s.stored, c.RequestID)
	}
	return nil
}

func TestStoreOutageLosesNoRecordWithinTheBuffer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const batch, buffer, extra = 5, 10, 3
		real := openStore(t)
		down := &downStore{CallLog: real}
		down.down.Store(true)
		var logs bytes.Buffer
		w := New(down, Options{Buffer: buffer, BatchSize: batch, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

		for i := range batch { // the first batch, taken out of the buffer
			c := call(i)
			c.Path = "/users/secret-path"
			w.Log(c)
		}
		synctest.Wait() // the writer is waiting to retry it
		for i := range buffer + extra {
			w.Log(call(batch + i))
		}
		time.Sleep(time.Minute) // a long outage: many retries
		synctest.Wait()
		if w.Written() != 0 || w.Failed() != 0 || w.Dropped() != extra {
			t.Fatalf("during the outage: Written %d, Failed %d, Dropped %d; want 0, 0, %d", w.Written(), w.Failed(), w.Dropped(), extra)
		}
		// Backoff: about 250ms doubling to 5s in a minute is far fewer than
		// the 240 attempts of a fixed 250ms delay.
		if n := down.attempts.Load(); n < 5 || n > 20 {
			t.Errorf("%d attempts in a minute, want backoff to 5s", n)
		}

		down.down.Store(false)
		time.Sleep(retryMax)
		synctest.Wait()
		const want = batch + buffer
		if w.Written() != want || w.Failed() != 0 || w.Dropped() != extra {
			t.Errorf("after recovery: Written %d, Failed %d, Dropped %d; want %d, 0, %d", w.Written(), w.Failed(), w.Dropped(), want, extra)
		}
		down.mu.Lock()
		stored := down.stored
		down.mu.Unlock()
		if len(stored) != want {
			t.Fatalf("%d records stored, want %d", len(stored), want)
		}
		for i, id := range stored {
			if id != fmt.Sprintf("req-%d", i) {
				t.Fatalf("record %d stored is %s, want req-%d: %v", i, id, i, stored)
			}
		}
		if got := countCalls(t, real); got != want {
			t.Errorf("%d in the store, want %d", got, want)
		}
		if !bytes.Contains(logs.Bytes(), []byte("connection refused")) {
			t.Errorf("store error not logged: %s", logs.String())
		}
		for _, secret := range []string{"secret-path", "req-", "203.0.113.7"} {
			if bytes.Contains(logs.Bytes(), []byte(secret)) {
				t.Errorf("log contains record contents %q: %s", secret, logs.String())
			}
		}
		closeWriter(t, w)
	})
}

// refusingStore is a real store, reachable (it answers Ping), whose
// InsertCalls refuses batches holding a poisoned record, as a database does
// with a value it cannot store.
type refusingStore struct {
	*sqlite.Store
}

func (s refusingStore) InsertCalls(ctx context.Context, calls []store.Call) error {
	for _, c := range calls {
		if c.Path == "/poison" {
			return errors.New("invalid byte sequence")
		}
	}
	return s.Store.InsertCalls(ctx, calls)
}

func TestBatchRefusedByAReachableStoreIsDropped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		real := openStore(t)
		w := New(refusingStore{real}, Options{BatchSize: 2})
		bad := call(0)
		bad.Path = "/poison"
		w.Log(bad)
		w.Log(call(1))
		synctest.Wait()
		w.Log(call(2))
		w.Log(call(3))
		time.Sleep(time.Second) // past the retry
		synctest.Wait()
		if w.Failed() != 2 || w.Written() != 2 {
			t.Errorf("Failed %d, Written %d; want 2 and 2", w.Failed(), w.Written())
		}
		closeWriter(t, w)
		if got := countCalls(t, real); got != 2 {
			t.Errorf("%d stored, want 2", got)
		}
	})
}

func TestCloseGivesUpDuringAnOutage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		real := openStore(t)
		down := &downStore{CallLog: real}
		down.down.Store(true)
		w := New(down, Options{BatchSize: 4})
		for i := range 10 {
			w.Log(call(i))
		}
		synctest.Wait()

		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
		}
		synctest.Wait()
		if w.Failed() != 10 || w.Written() != 0 {
			t.Errorf("Failed %d, Written %d; want 10 and 0", w.Failed(), w.Written())
		}
		if err := w.Close(t.Context()); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
}

func TestConcurrentLog(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 500
	s := openStore(t)
	w := New(s, Options{Buffer: 1000, BatchSize: 128})
	var wg sync.WaitGroup
	var accepted atomic.Uint64
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if w.Log(call(g*each + i)) {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	closeWriter(t, w)
	if w.Written()+w.Dropped() != goroutines*each || w.Written() != accepted.Load() {
		t.Errorf("Written %d + Dropped %d != %d (accepted %d)", w.Written(), w.Dropped(), goroutines*each, accepted.Load())
	}
	if got := countCalls(t, s); uint64(got) != w.Written() {
		t.Errorf("%d stored, Written %d", got, w.Written())
	}
}

func TestPruning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		ages      []time.Duration // records present before the Writer starts
		wantStart int             // left after the first pass at start-up
		wait      time.Duration   // then this much time passes
		wantLater int
	}{
		{
			name:      "retention",
			opts:      Options{Retention: time.Hour, PruneEvery: time.Minute},
			ages:      []time.Duration{3 * time.Hour, 2 * time.Hour, 30 * time.Minute, 10 * time.Minute, 0},
			wantStart: 3,
			wait:      55 * time.Minute, // the 30- and 10-minute-old ones age out
			wantLater: 1,
		},
		{
			name:      "max rows",
			opts:      Options{MaxRows: 2, PruneEvery: time.Minute},
			ages:      []time.Duration{0, 0, 0, 0, 0},
			wantStart: 2,
			wait:      time.Hour,
			wantLater: 2,
		},
		{
			name:      "neither set keeps everything",
			opts:      Options{PruneEvery: time.Minute},
			ages:      []time.Duration{1000 * time.Hour, 0},
			wantStart: 2,
			wait:      time.Hour,
			wantLater: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := openStore(t)
				var old []store.Call
				for i, age := range tt.ages {
					c := call(i)
					c.Time = time.Now().Add(-age)
					old = append(old, c)
				}
				if err := s.InsertCalls(t.Context(), old); err != nil {
					t.Fatal(err)
				}
				w := New(s, tt.opts)
				synctest.Wait()
				if got := countCalls(t, s); got != tt.wantStart {
					t.Errorf("after start-up: %d records, want %d", got, tt.wantStart)
				}
				time.Sleep(tt.wait)
				synctest.Wait()
				if got := countCalls(t, s); got != tt.wantLater {
					t.Errorf("after %v: %d records, want %d", tt.wait, got, tt.wantLater)
				}
				closeWriter(t, w)
			})
		})
	}
}
