package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, store.TokenKeySize) }

func runTokenKeys(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("AddAndListNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if got, err := s.TokenKeys(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("TokenKeys on an empty store = %v, %v", got, err)
		}
		in := []store.TokenKey{
			{ID: "k2026a", Secret: secret(1), CreatedAt: base},
			{ID: "k2026-b_2", Secret: secret(2), CreatedAt: base.Add(time.Hour)},
			{ID: "old", Secret: secret(3), CreatedAt: base.Add(-time.Hour)},
		}
		for _, k := range in {
			if err := s.AddTokenKey(ctx(t), k); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.TokenKeys(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.TokenKey{in[1], in[0], in[2]}
		if len(got) != len(want) {
			t.Fatalf("TokenKeys returned %d keys, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || !bytes.Equal(got[i].Secret, want[i].Secret) || !got[i].CreatedAt.Equal(want[i].CreatedAt) {
				t.Errorf("key %d = %s created %v, want %s created %v", i, got[i].ID, got[i].CreatedAt, want[i].ID, want[i].CreatedAt)
			}
		}
	})

	t.Run("CreatedAtDefaultsToNow", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		before := time.Now().Add(-time.Second)
		if err := s.AddTokenKey(ctx(t), store.TokenKey{ID: "k1", Secret: secret(9)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.TokenKeys(ctx(t))
		if err != nil || len(got) != 1 || got[0].CreatedAt.Before(before) || got[0].CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("TokenKeys = %+v, %v; want one key created about now", got, err)
		}
	})

	t.Run("DuplicateIDIsErrExists", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if err := s.AddTokenKey(ctx(t), store.TokenKey{ID: "k1", Secret: secret(1), CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		err := s.AddTokenKey(ctx(t), store.TokenKey{ID: "k1", Secret: secret(2), CreatedAt: base.Add(time.Minute)})
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("second AddTokenKey(k1) = %v, want store.ErrExists", err)
		}
		got, _ := s.TokenKeys(ctx(t))
		if len(got) != 1 || !bytes.Equal(got[0].Secret, secret(1)) {
			t.Errorf("the duplicate replaced the stored key: %+v", got)
		}
	})

	t.Run("InvalidKeysRefused", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sec := []byte("0123456789abcdef0123456789abcdef")
		for name, k := range map[string]store.TokenKey{
			"empty id":      {ID: "", Secret: secret(1)},
			"long id":       {ID: strings.Repeat("k", store.TokenKeyIDMaxLen+1), Secret: secret(1)},
			"bad character": {ID: "k.1", Secret: secret(1)},
			"space":         {ID: "k 1", Secret: secret(1)},
			"short secret":  {ID: "k1", Secret: sec[:16]},
			"no secret":     {ID: "k2"},
		} {
			err := s.AddTokenKey(ctx(t), k)
			if err == nil {
				t.Errorf("%s: AddTokenKey succeeded", name)
				continue
			}
			if len(k.Secret) > 0 && strings.Contains(err.Error(), string(k.Secret)) {
				t.Errorf("%s: error %q shows the secret", name, err)
			}
		}
		if err := s.AddTokenKey(ctx(t), store.TokenKey{ID: strings.Repeat("k", store.TokenKeyIDMaxLen), Secret: sec}); err != nil {
			t.Errorf("a 16-character id was refused: %v", err)
		}
		if got, _ := s.TokenKeys(ctx(t)); len(got) != 1 {
			t.Errorf("%d keys stored, want only the valid one", len(got))
		}
	})
}
