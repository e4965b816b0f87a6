package storetest

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func runQuotas(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("AddAndRead", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
		if n, err := s.QuotaUsage(ctx(t), "orders", "daily", "consumer:a", day); err != nil || n != 0 {
			t.Fatalf("absent counter = %d, %v; want 0, nil", n, err)
		}
		deltas := []store.QuotaDelta{
			{Route: "orders", Quota: "daily", Key: "consumer:a", Period: day, N: 3},
			{Route: "orders", Quota: "daily", Key: "consumer:b", Period: day, N: 1},
			{Route: "orders", Quota: "daily", Key: "consumer:a", Period: day, N: 2},
		}
		if err := s.AddQuotaUsage(ctx(t), deltas); err != nil {
			t.Fatal(err)
		}
		if err := s.AddQuotaUsage(ctx(t), deltas[:1]); err != nil {
			t.Fatal(err)
		}
		if n, err := s.QuotaUsage(ctx(t), "orders", "daily", "consumer:a", day); err != nil || n != 8 {
			t.Errorf("consumer:a = %d, %v; want 8", n, err)
		}
		if n, _ := s.QuotaUsage(ctx(t), "orders", "daily", "consumer:a", day.AddDate(0, 0, 1)); n != 0 {
			t.Errorf("next day = %d, want 0: periods are separate counters", n)
		}
		if n, _ := s.QuotaUsage(ctx(t), "orders", "monthly", "consumer:a", day); n != 0 {
			t.Errorf("another quota = %d, want 0", n)
		}
	})
	t.Run("ListAndDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		d1 := time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC)
		d2 := d1.AddDate(0, 0, 1)
		err := s.AddQuotaUsage(ctx(t), []store.QuotaDelta{
			{Route: "orders", Quota: "daily", Key: "consumer:a", Period: d1, N: 1},
			{Route: "orders", Quota: "daily", Key: "consumer:a", Period: d2, N: 2},
			{Route: "orders", Quota: "daily", Key: "consumer:b", Period: d2, N: 3},
			{Route: "files", Quota: "daily", Key: "consumer:a", Period: d2, N: 4},
		})
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.ListQuotaUsage(ctx(t), store.QuotaFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range all {
			got = append(got, u.Route+"/"+u.Key+"/"+u.Period.Format("02"))
			if u.UpdatedAt.IsZero() {
				t.Errorf("%+v: no updated_at", u)
			}
		}
		want := []string{"files/consumer:a/14", "orders/consumer:a/14", "orders/consumer:b/14", "orders/consumer:a/13"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("list = %v, want %v (newest period first, then route, quota, key)", got, want)
		}
		byKey, _ := s.ListQuotaUsage(ctx(t), store.QuotaFilter{Route: "orders", Key: "consumer:a", Since: d2})
		if len(byKey) != 1 || byKey[0].Used != 2 || !byKey[0].Period.Equal(d2) {
			t.Errorf("filtered = %+v, want the one d2 counter of orders/consumer:a", byKey)
		}
		if lim, _ := s.ListQuotaUsage(ctx(t), store.QuotaFilter{Limit: 2}); len(lim) != 2 {
			t.Errorf("limit 2 returned %d", len(lim))
		}
		n, err := s.DeleteQuotaUsageBefore(ctx(t), d2)
		if err != nil || n != 1 {
			t.Errorf("delete = %d, %v; want 1", n, err)
		}
		if left, _ := s.ListQuotaUsage(ctx(t), store.QuotaFilter{}); len(left) != 3 {
			t.Errorf("%d counters left, want 3", len(left))
		}
	})
	t.Run("ConcurrentAdds", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if err := s.AddQuotaUsage(ctx(t), []store.QuotaDelta{{Route: "r", Quota: "q", Key: "k", Period: day, N: 1}}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if n, _ := s.QuotaUsage(ctx(t), "r", "q", "k", day); n != 80 {
			t.Errorf("after 80 concurrent adds: %d", n)
		}
	})
}

func runIdempotency(t *testing.T, open func(t *testing.T) store.Store) {
	const scope = "orders|consumer:a"
	rec := func(key, fp, token string, now time.Time) store.IdempotencyRecord {
		return store.IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp, Token: token, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	}
	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := base
		got, err := s.BeginIdempotent(ctx(t), rec("k1", "fp1", "tok-1", now), now)
		if err != nil || got != nil {
			t.Fatalf("first begin = %+v, %v; want inserted", got, err)
		}
		got, err = s.BeginIdempotent(ctx(t), rec("k1", "fp2", "tok-2", now), now.Add(time.Second))
		if err != nil || got == nil || got.Done || got.Fingerprint != "fp1" {
			t.Fatalf("second begin = %+v, %v; want the in-flight record with fp1", got, err)
		}
		if got.Token != "" {
			t.Errorf("begin returned the holder's token %q; it is the holder's alone", got.Token)
		}
		resp := store.StoredResponse{Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"id":1}`)}
		if err := s.CompleteIdempotent(ctx(t), scope, "k1", "tok-2", resp, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("complete with a token that does not hold the key = %v, want ErrNotFound", err)
		}
		if err := s.CompleteIdempotent(ctx(t), scope, "k1", "tok-1", resp, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err = s.BeginIdempotent(ctx(t), rec("k1", "fp1", "tok-3", now), now.Add(30*time.Minute))
		if err != nil || got == nil || !got.Done || got.Response == nil {
			t.Fatalf("after complete = %+v, %v; want the done record", got, err)
		}
		if !reflect.DeepEqual(*got.Response, resp) || !got.ExpiresAt.Equal(now.Add(time.Hour)) || got.Token != "" {
			t.Errorf("stored %+v until %v (token %q), want %+v until %v, no token", *got.Response, got.ExpiresAt, got.Token, resp, now.Add(time.Hour))
		}
		if err := s.CompleteIdempotent(ctx(t), scope, "k1", "tok-1", resp, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("completing a done record = %v, want ErrNotFound", err)
		}
		// Expired: the key may be used afresh.
		got, err = s.BeginIdempotent(ctx(t), rec("k1", "fp3", "tok-4", now.Add(2*time.Hour)), now.Add(2*time.Hour))
		if err != nil || got != nil {
			t.Errorf("begin after expiry = %+v, %v; want inserted", got, err)
		}
		if _, err := s.BeginIdempotent(ctx(t), rec("k2", "fp", "", now), now); err == nil {
			t.Error("begin without a token succeeded")
		}
	})
	t.Run("ReleaseAndSweep", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := base
		if _, err := s.BeginIdempotent(ctx(t), rec("k1", "fp", "tok-1", now), now); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseIdempotent(ctx(t), scope, "k1", "tok-other"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BeginIdempotent(ctx(t), rec("k1", "fp", "tok-2", now), now); got == nil {
			t.Fatal("a release with another token freed the key")
		}
		if err := s.ReleaseIdempotent(ctx(t), scope, "k1", "tok-1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BeginIdempotent(ctx(t), rec("k1", "fp", "tok-3", now), now); got != nil {
			t.Errorf("released key still held: %+v", got)
		}
		if err := s.CompleteIdempotent(ctx(t), scope, "k1", "tok-3", store.StoredResponse{Status: 200}, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseIdempotent(ctx(t), scope, "k1", "tok-3"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BeginIdempotent(ctx(t), rec("k1", "fp", "tok-4", now), now); got == nil || !got.Done {
			t.Errorf("release removed a completed record: %+v", got)
		}
		if _, err := s.BeginIdempotent(ctx(t), rec("k2", "fp", "tok-5", now), now); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredIdempotency(ctx(t), now.Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("sweep = %d, %v; want 1 (k2 expired after a minute, k1 lives an hour)", n, err)
		}
	})
	t.Run("LapsedLockTakenOver", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if got, err := s.BeginIdempotent(ctx(t), rec("k", "fp", "first", base), base); err != nil || got != nil {
			t.Fatalf("first begin = %+v, %v", got, err)
		}
		// The first holder's lock lapses (a minute) and a second request
		// takes the key while the first is still running.
		late := base.Add(time.Minute)
		if got, err := s.BeginIdempotent(ctx(t), rec("k", "fp", "second", late), late); err != nil || got != nil {
			t.Fatalf("begin after the lock lapsed = %+v, %v; want inserted", got, err)
		}
		resp := store.StoredResponse{Status: 201, Header: http.Header{}, Body: []byte("first's")}
		if err := s.CompleteIdempotent(ctx(t), scope, "k", "first", resp, late.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the first holder's late complete = %v, want ErrNotFound", err)
		}
		if err := s.ReleaseIdempotent(ctx(t), scope, "k", "first"); err != nil {
			t.Fatal(err)
		}
		got, err := s.BeginIdempotent(ctx(t), rec("k", "fp", "third", late), late.Add(time.Second))
		if err != nil || got == nil || got.Done || !got.CreatedAt.Equal(late) {
			t.Fatalf("after the first holder's complete and release: %+v, %v; want the second's record in flight", got, err)
		}
		resp.Body = []byte("second's")
		if err := s.CompleteIdempotent(ctx(t), scope, "k", "second", resp, late.Add(time.Hour)); err != nil {
			t.Fatalf("the second holder's complete = %v", err)
		}
		got, err = s.BeginIdempotent(ctx(t), rec("k", "fp", "fourth", late), late.Add(2*time.Second))
		if err != nil || got == nil || !got.Done || got.Response == nil || string(got.Response.Body) != "second's" {
			t.Errorf("stored record = %+v, %v; want the second holder's response", got, err)
		}
	})
	t.Run("ConcurrentBegin", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted int
		)
		for i := range 8 {
			wg.Go(func() {
				got, err := s.BeginIdempotent(ctx(t), rec("race", "fp", "tok-"+strconv.Itoa(i), base), base)
				if err != nil {
					t.Error(err)
					return
				}
				if got == nil {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if inserted != 1 {
			t.Errorf("%d concurrent begins inserted, want exactly 1", inserted)
		}
	})
}
