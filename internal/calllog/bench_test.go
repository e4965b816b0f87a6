package calllog

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// discardStore accepts every batch and keeps nothing, so the benchmarks
// measure the Writer alone.
type discardStore struct{}

func (discardStore) InsertCalls(context.Context, []store.Call) error { return nil }
func (discardStore) QueryCalls(context.Context, store.CallQuery) ([]store.Call, error) {
	return nil, nil
}
func (discardStore) PruneCalls(context.Context, time.Time, int) (int64, error) { return 0, nil }

// BenchmarkLog measures the accept path: between chunks of one buffer's
// worth of records the clock stops until the writer has drained them, so no
// record is dropped.
func BenchmarkLog(b *testing.B) {
	const chunk = 1 << 14
	w := New(discardStore{}, Options{Buffer: chunk, BatchSize: chunk, FlushInterval: time.Hour})
	defer w.Close(context.Background())
	c := call(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.Log(c)
		if (i+1)%chunk == 0 {
			b.StopTimer()
			for w.Written() < uint64(i+1) {
				runtime.Gosched()
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	if w.Dropped() != 0 {
		b.Fatalf("%d records dropped", w.Dropped())
	}
}

// BenchmarkLogFull measures the drop path: the store is stuck and the buffer
// is full.
func BenchmarkLogFull(b *testing.B) {
	slow := &slowStore{CallLog: discardStore{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	w := New(slow, Options{Buffer: 1, BatchSize: 1})
	defer w.Close(context.Background())
	defer close(slow.release)
	c := call(1)
	w.Log(c)
	<-slow.entered
	w.Log(c)
	b.ReportAllocs()
	for b.Loop() {
		w.Log(c)
	}
}

// BenchmarkLogParallel logs from every CPU into a discarding store; records
// are dropped whenever the single batching goroutine falls behind.
func BenchmarkLogParallel(b *testing.B) {
	w := New(discardStore{}, Options{})
	defer w.Close(context.Background())
	c := call(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Log(c)
		}
	})
	b.ReportMetric(float64(w.Dropped())/float64(b.N), "dropped/op")
}

func BenchmarkRedactQuery(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		RedactQuery("customer=42&token=eyJhbGciOiJIUzI1NiJ9&expand&page=")
	}
}
