package accept

import (
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewRequestIDFormat(t *testing.T) {
	t.Parallel()
	before := time.Now().UnixMilli()
	id := NewRequestID()
	after := time.Now().UnixMilli()

	if len(id) != uuidLen || strings.ToLower(id) != id {
		t.Fatalf("id %q is not a 36-character lower-case UUID", id)
	}
	u, err := uuid.Parse(id) // an independent parser
	if err != nil {
		t.Fatal(err)
	}
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("id %s: version %d variant %v, want 7 RFC 9562", id, u.Version(), u.Variant())
	}
	var raw [6]byte
	hex.Decode(raw[:], []byte(strings.ReplaceAll(id[:13], "-", "")))
	got := int64(raw[0])<<40 | int64(raw[1])<<32 | int64(raw[2])<<24 | int64(raw[3])<<16 | int64(raw[4])<<8 | int64(raw[5])
	// The timestamp is never early. It may run ahead of the clock when more
	// than ~2000 ids are made in one millisecond (the counter carries into
	// it, as RFC 9562 allows), which parallel tests here can do for a few ms.
	if got < before || got > after+1000 {
		t.Fatalf("id %s has timestamp %d ms, generated between %d and %d", id, got, before, after)
	}
}

func TestNewRequestIDMonotonic(t *testing.T) {
	t.Parallel()
	prev := NewRequestID()
	for range 20000 {
		id := NewRequestID()
		if id <= prev {
			t.Fatalf("%s after %s: ids must strictly increase", id, prev)
		}
		prev = id
	}
}

func TestNewRequestIDUniqueAcrossGoroutines(t *testing.T) {
	t.Parallel()
	const workers, each = 8, 5000
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				ids[w] = append(ids[w], NewRequestID())
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool, workers*each)
	for _, list := range ids {
		for _, id := range list {
			if seen[id] {
				t.Fatalf("duplicate id %s", id)
			}
			seen[id] = true
		}
	}
}

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"abc", true},
		{"01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d", true},
		{"edge:node-1.req_42", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a b", false},
		{"a\nb", false},
		{`"quoted"`, false},
		{"a/b", false},
		{"ünïcode", false},
	} {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			if got := ValidRequestID(c.id); got != c.want {
				t.Fatalf("ValidRequestID(%q) = %v, want %v", c.id, got, c.want)
			}
		})
	}
}

func TestValidTraceParent(t *testing.T) {
	t.Parallel()
	const good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		name, tp string
		want     bool
	}{
		{"valid", good, true},
		{"not sampled", good[:53] + "00", true},
		{"upper-case hex", strings.ToUpper(good), false},
		{"version ff", "ff" + good[2:], false},
		{"future version", "01" + good[2:], false},
		{"zero trace id", "00-" + strings.Repeat("0", 32) + good[35:], false},
		{"zero parent id", good[:36] + strings.Repeat("0", 16) + good[52:], false},
		{"too long", good + "-x", false},
		{"too short", good[:54], false},
		{"bad separator", good[:35] + "_" + good[36:], false},
		{"non-hex", good[:3] + "g" + good[4:], false},
		{"empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidTraceParent(c.tp); got != c.want {
				t.Fatalf("ValidTraceParent(%q) = %v, want %v", c.tp, got, c.want)
			}
		})
	}
}

// TestGeneratedTraceParent checks that a traceparent built for a generated
// request id carries the id's 16 bytes as its trace id, so operators can
// correlate the two, and that one built for a proxy's id is random and valid.
func TestGeneratedTraceParent(t *testing.T) {
	t.Parallel()
	s := newTestStage(t, "", "10.0.0.0/8")
	x, _ := handle(s, newTestRequest("GET", "/", "198.51.100.4:1", nil))
	if !ValidTraceParent(x.TraceParent) {
		t.Fatalf("traceparent %q is not valid", x.TraceParent)
	}
	if want := strings.ReplaceAll(x.ID, "-", ""); x.TraceParent[3:35] != want || !strings.HasSuffix(x.TraceParent, "-01") {
		t.Fatalf("traceparent %q does not carry request id %s", x.TraceParent, x.ID)
	}

	y, _ := handle(s, newTestRequest("GET", "/", "10.0.0.2:1", map[string][]string{"X-Request-Id": {"edge-1"}}))
	if y.ID != "edge-1" || !ValidTraceParent(y.TraceParent) {
		t.Fatalf("id %q traceparent %q", y.ID, y.TraceParent)
	}
	z, _ := handle(s, newTestRequest("GET", "/", "10.0.0.2:1", map[string][]string{"X-Request-Id": {"edge-1"}}))
	if y.TraceParent[3:35] == z.TraceParent[3:35] {
		t.Fatal("two requests got the same random trace id")
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewRequestID()
	}
}

func BenchmarkNewRequestIDParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			NewRequestID()
		}
	})
}
