package identity

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// BenchmarkExpiryScan100k is one watcher pass over 100,000 keys, none due:
// what every node pays every DefaultExpiryInterval.
func BenchmarkExpiryScan100k(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "p.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := &Service{Store: st, Live: NewRegistry(), Now: func() time.Time { return now }, Audit: &audit.Recorder{Store: st}}
	for i := range 100_000 {
		k := NewKeyRecord("live", fmt.Sprintf("k%011d", i))
		k.ConsumerID = "app"
		if i%2 == 0 {
			k.ExpiresAt = now.Add(time.Hour).UnixNano()
		}
		s.Live.PutKey(k)
	}
	for b.Loop() {
		if n, err := s.RecordExpiries(b.Context()); err != nil || n != 0 {
			b.Fatal(n, err)
		}
	}
}
