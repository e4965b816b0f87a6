package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// listen runs s.Listen until the test ends and returns its events.
func listen(t *testing.T, s *Store) <-chan store.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan store.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, func(e store.Event) {
			select {
			case events <- e:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen returned %v after its context ended", err)
		}
	})
	return events
}

// next returns the next event other than EventDisconnected, failing the
// test after 5 s.
func next(t *testing.T, events <-chan store.Event) store.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == store.EventDisconnected {
				continue
			}
			return e
		case <-timeout:
			t.Fatal("no event within 5 s")
			return store.Event{}
		}
	}
}

func expect(t *testing.T, events <-chan store.Event, kind, id string) {
	t.Helper()
	if e := next(t, events); e.Kind != kind || e.ID != id {
		t.Fatalf("event %s %q, want %s %q", e.Kind, e.ID, kind, id)
	}
}

func testKey(id, consumer string) store.APIKey {
	return store.APIKey{ID: id, Env: "test", ConsumerID: consumer, Hash: strings.Repeat(id[:1], 64)}
}

func TestListenReportsCommittedWrites(t *testing.T) {
	ctx := t.Context()
	dsn := schemaDSN(t)
	a, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Another store in another schema of the same database: its events
	// must not reach a's listener.
	other := openTest(t)
	events := listen(t, a)
	expect(t, events, store.EventReconnected, "")

	if _, err := other.CreateTenant(ctx, store.Tenant{ID: "elsewhere", Status: "active"}); err != nil {
		t.Fatal(err)
	}
	rev, err := a.AppendRevision(ctx, store.Revision{Document: []byte("version: 1\n")})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventRevision, "1")
	if rev.Number != 1 {
		t.Fatalf("revision %d", rev.Number)
	}
	if _, err := a.CreateTenant(ctx, store.Tenant{ID: "acme", Status: "active"}); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventTenant, "acme")
	if _, err := a.UpdateTenant(ctx, store.Tenant{ID: "acme", Status: "suspended"}); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventTenant, "acme")
	c := store.Consumer{ID: "app", Status: "active"}
	if _, err := a.CreateConsumer(ctx, c); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventConsumer, "app")
	c.Status = "suspended"
	if _, err := a.UpdateConsumer(ctx, c); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventConsumer, "app")
	if _, err := a.CreateAPIKey(ctx, testKey("a1", "app")); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventKey, "a1")
	// Last-used times are not worth an event: the next one is the revocation.
	if err := a.TouchAPIKeys(ctx, map[string]time.Time{"a1": time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RevokeAPIKey(ctx, "a1", time.Now(), "leaked"); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventKey, "a1")
	if _, err := a.CreateAPIKey(ctx, testKey("b1", "app")); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventKey, "b1")
	if _, _, err := a.RotateAPIKey(ctx, "b1", time.Now().Add(time.Hour), testKey("c1", "app")); err != nil {
		t.Fatal(err)
	}
	// One transaction: the new key, then the old one's new expiry.
	expect(t, events, store.EventKey, "c1")
	expect(t, events, store.EventKey, "b1")
	if err := a.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventTenant, "acme")
	if err := a.DeleteConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventConsumer, "app")
	got := map[string]bool{}
	for range 3 {
		e := next(t, events)
		if e.Kind != store.EventKey {
			t.Fatalf("event %+v, want a key deletion", e)
		}
		got[e.ID] = true
	}
	if !got["a1"] || !got["b1"] || !got["c1"] {
		t.Fatalf("deleted keys reported: %v", got)
	}
	select {
	case e := <-events:
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

func TestListenReconnects(t *testing.T) {
	ctx := t.Context()
	b := make([]byte, 6)
	rand.Read(b)
	app := "pinpoint-listen-test-" + hex.EncodeToString(b)
	u, err := url.Parse(schemaDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events := make(chan store.Event, 100)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Listen(lctx, func(e store.Event) { events <- e }) }()
	defer func() { cancel(); <-done }()
	expect(t, events, store.EventReconnected, "")

	// Kill the listening backend (the pool's idle connections too; the
	// pool replaces them).
	if _, err := admin(t).Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app); err != nil {
		t.Fatal(err)
	}
	var e store.Event
	select {
	case e = <-events:
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s of killing the listener's backend")
	}
	if e.Kind != store.EventDisconnected || e.Err == nil {
		t.Fatalf("after the backend was killed: %+v, want disconnected with an error", e)
	}
	expect(t, events, store.EventReconnected, "")
	if _, err := s.AppendRevision(ctx, store.Revision{Document: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	expect(t, events, store.EventRevision, "1")
}
