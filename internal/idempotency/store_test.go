package idempotency

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/redisconn/redistest"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// t0 is where the tests' clocks start; whole microseconds, as the stores
// keep times.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// inflight is a record to begin, with a fresh token.
func inflight(scope, key, fp string, now time.Time, lock time.Duration) store.IdempotencyRecord {
	return store.IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp, Token: newToken(), CreatedAt: now, ExpiresAt: now.Add(lock)}
}

func TestStoreContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, func(t *testing.T, k storeKind) {
		t.Run("begin, in flight, complete, done", func(t *testing.T) {
			st := k.open(t)
			rec := inflight("orders|consumer:c1", "k1", "fp1", t0, time.Minute)
			if cur, err := st.BeginIdempotent(ctx, rec, t0); err != nil || cur != nil {
				t.Fatalf("first begin = %v, %v; want inserted", cur, err)
			}
			cur, err := st.BeginIdempotent(ctx, inflight(rec.Scope, rec.Key, "fp2", t0.Add(time.Second), time.Minute), t0.Add(time.Second))
			if err != nil || cur == nil {
				t.Fatalf("second begin = %v, %v; want the in-flight record", cur, err)
			}
			want := rec
			want.Token = "" // never handed out
			sameRecord(t, cur, &want)
			resp := store.StoredResponse{Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}},
				Body: []byte("{\"id\":1}\x00\xff binary")}
			expires := t0.Add(2 * time.Second).Add(24 * time.Hour)
			if err := st.CompleteIdempotent(ctx, rec.Scope, rec.Key, newToken(), resp, expires); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("complete with a stranger's token = %v, want ErrNotFound", err)
			}
			if err := st.CompleteIdempotent(ctx, rec.Scope, rec.Key, rec.Token, resp, expires); err != nil {
				t.Fatal(err)
			}
			cur, err = st.BeginIdempotent(ctx, inflight(rec.Scope, rec.Key, "fp1", t0.Add(time.Hour), time.Minute), t0.Add(time.Hour))
			if err != nil || cur == nil {
				t.Fatalf("begin after complete = %v, %v", cur, err)
			}
			want.Done, want.ExpiresAt, want.Response = true, expires, &resp
			sameRecord(t, cur, &want)
			if err := st.CompleteIdempotent(ctx, rec.Scope, rec.Key, rec.Token, resp, expires); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second complete = %v, want ErrNotFound", err)
			}
			if err := st.ReleaseIdempotent(ctx, rec.Scope, rec.Key, rec.Token); err != nil {
				t.Fatal(err)
			}
			if cur, err := st.BeginIdempotent(ctx, rec, t0.Add(time.Hour)); err != nil || cur == nil || !cur.Done {
				t.Errorf("release removed a stored response: %v, %v", cur, err)
			}
		})
		t.Run("complete of a missing record", func(t *testing.T) {
			st := k.open(t)
			err := st.CompleteIdempotent(ctx, "s", "nobody", newToken(), store.StoredResponse{Status: 200}, t0.Add(time.Hour))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("complete = %v, want ErrNotFound", err)
			}
			if err := st.ReleaseIdempotent(ctx, "s", "nobody", newToken()); err != nil {
				t.Errorf("release of a missing record = %v", err)
			}
		})
		t.Run("release frees the key", func(t *testing.T) {
			st := k.open(t)
			rec := inflight("s", "k", "fp", t0, time.Minute)
			mustBegin(t, st, rec, t0)
			if err := st.ReleaseIdempotent(ctx, "s", "k", newToken()); err != nil {
				t.Fatal(err)
			}
			if cur, err := st.BeginIdempotent(ctx, inflight("s", "k", "fp", t0, time.Minute), t0); err != nil || cur == nil {
				t.Fatalf("a stranger's release freed the key: %+v, %v", cur, err)
			}
			if err := st.ReleaseIdempotent(ctx, "s", "k", rec.Token); err != nil {
				t.Fatal(err)
			}
			mustBegin(t, st, inflight("s", "k", "fp", t0, time.Minute), t0)
		})
		t.Run("a lapsed lock taken over", func(t *testing.T) {
			st := k.open(t)
			first := inflight("s", "k", "fp", t0, time.Minute)
			mustBegin(t, st, first, t0)
			late := t0.Add(time.Minute)
			second := inflight("s", "k", "fp", late, time.Minute)
			mustBegin(t, st, second, late)
			resp := store.StoredResponse{Status: 201, Body: []byte("first's")}
			if err := st.CompleteIdempotent(ctx, "s", "k", first.Token, resp, late.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the first holder's late complete = %v, want ErrNotFound", err)
			}
			if err := st.ReleaseIdempotent(ctx, "s", "k", first.Token); err != nil {
				t.Fatal(err)
			}
			cur, err := st.BeginIdempotent(ctx, inflight("s", "k", "fp", late, time.Minute), late)
			if err != nil || cur == nil {
				t.Fatalf("the first holder's release freed the second's key: %+v, %v", cur, err)
			}
			want := second
			want.Token = ""
			sameRecord(t, cur, &want)
			resp.Body = []byte("second's")
			if err := st.CompleteIdempotent(ctx, "s", "k", second.Token, resp, late.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("a record needs a token", func(t *testing.T) {
			st := k.open(t)
			rec := inflight("s", "k", "fp", t0, time.Minute)
			rec.Token = ""
			if cur, err := st.BeginIdempotent(ctx, rec, t0); err == nil {
				t.Errorf("begin without a token = %+v, nil; want an error", cur)
			}
		})
		t.Run("expiry by the caller's clock", func(t *testing.T) {
			st := k.open(t)
			mustBegin(t, st, inflight("s", "k", "old", t0, time.Minute), t0)
			late := t0.Add(time.Minute)
			rec := inflight("s", "k", "new", late, time.Minute)
			mustBegin(t, st, rec, late)
			cur, err := st.BeginIdempotent(ctx, inflight("s", "k", "x", late, time.Minute), late)
			if err != nil || cur == nil || cur.Fingerprint != "new" {
				t.Fatalf("after expiry the new record should hold the key: %+v, %v", cur, err)
			}
			// A completed record lapses at its own expiry.
			if err := st.CompleteIdempotent(ctx, "s", "k", rec.Token, store.StoredResponse{Status: 200, Body: []byte{}}, late.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if cur, _ := st.BeginIdempotent(ctx, inflight("s", "k", "y", late.Add(59*time.Minute), time.Minute), late.Add(59*time.Minute)); cur == nil || !cur.Done {
				t.Fatalf("completed record gone before its expiry: %+v", cur)
			}
			mustBegin(t, st, inflight("s", "k", "z", late.Add(time.Hour), time.Minute), late.Add(time.Hour))
		})
		t.Run("scopes and keys do not run into each other", func(t *testing.T) {
			st := k.open(t)
			mustBegin(t, st, inflight("a:b", "c", "fp", t0, time.Minute), t0)
			mustBegin(t, st, inflight("a", "b:c", "fp", t0, time.Minute), t0)
			mustBegin(t, st, inflight("a:b:c", "x", "fp", t0, time.Minute), t0)
		})
		t.Run("concurrent begins: exactly one inserts", func(t *testing.T) {
			st := k.open(t)
			const n = 16
			var wg sync.WaitGroup
			inserted := make(chan int, n)
			for i := range n {
				wg.Go(func() {
					cur, err := st.BeginIdempotent(ctx, inflight("s", "race", "fp", t0, time.Minute), t0)
					if err != nil {
						t.Error(err)
						return
					}
					if cur == nil {
						inserted <- i
					}
				})
			}
			wg.Wait()
			close(inserted)
			if got := len(inserted); got != 1 {
				t.Errorf("%d begins inserted, want 1", got)
			}
		})
		t.Run("delete expired", func(t *testing.T) {
			st := k.open(t)
			mustBegin(t, st, inflight("s", "short", "fp", t0, time.Minute), t0)
			mustBegin(t, st, inflight("s", "long", "fp", t0, time.Hour), t0)
			n, err := st.DeleteExpiredIdempotency(ctx, t0.Add(30*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int64{true: 1, false: 0}[k.sweeps]; n != want {
				t.Errorf("deleted %d, want %d", n, want)
			}
			if cur, _ := st.BeginIdempotent(ctx, inflight("s", "long", "fp", t0, time.Hour), t0.Add(30*time.Minute)); cur == nil {
				t.Error("a live record was deleted")
			}
		})
	})
}

// TestRedisStoreExpiresKeys checks that Redis itself forgets records: an
// in-flight record lives for its lock time, a done one about its TTL.
func TestRedisStoreExpiresKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	st := NewRedisStore(c)
	now := time.Now()
	rec := inflight("s", "k", "fp", now, 10*time.Second)
	mustBegin(t, st, rec, now)
	ttl := c.PTTL(ctx, st.key("s", "k")).Val()
	if ttl <= 0 || ttl > 10*time.Second {
		t.Errorf("in-flight PTTL %v, want (0, 10s]", ttl)
	}
	if err := st.CompleteIdempotent(ctx, "s", "k", rec.Token, store.StoredResponse{Status: 200}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ttl = c.PTTL(ctx, st.key("s", "k")).Val()
	if ttl < time.Hour-time.Minute || ttl > time.Hour+time.Minute {
		t.Errorf("done PTTL %v, want about 1h", ttl)
	}
}

// TestRedisStoreUnreachable checks that every method reports a dead Redis.
func TestRedisStoreUnreachable(t *testing.T) {
	t.Parallel()
	c, err := redisconn.Open(redistest.DeadConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := NewRedisStore(c)
	ctx := context.Background()
	if _, err := st.BeginIdempotent(ctx, inflight("s", "k", "fp", t0, time.Minute), t0); err == nil {
		t.Error("begin succeeded against a dead Redis")
	}
	if err := st.CompleteIdempotent(ctx, "s", "k", "tok", store.StoredResponse{}, t0); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("complete = %v, want a connection error", err)
	}
	if err := st.ReleaseIdempotent(ctx, "s", "k", "tok"); err == nil {
		t.Error("release succeeded against a dead Redis")
	}
}

// sameRecord compares records, times by instant.
func sameRecord(t *testing.T, got, want *store.IdempotencyRecord) {
	t.Helper()
	if got.Scope != want.Scope || got.Key != want.Key || got.Fingerprint != want.Fingerprint || got.Done != want.Done ||
		got.Token != want.Token || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("record = %+v\nwant %+v", *got, *want)
	}
	if (got.Response == nil) != (want.Response == nil) ||
		got.Response != nil && !reflect.DeepEqual(*got.Response, *want.Response) {
		t.Errorf("response = %+v\nwant %+v", got.Response, want.Response)
	}
}

func mustBegin(t *testing.T, st store.Idempotency, rec store.IdempotencyRecord, now time.Time) {
	t.Helper()
	cur, err := st.BeginIdempotent(context.Background(), rec, now)
	if err != nil || cur != nil {
		t.Fatalf("begin %s/%s = %+v, %v; want inserted", rec.Scope, rec.Key, cur, err)
	}
}
