package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

func runAdminTokens(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateLookupList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if got, err := s.ListAdminTokens(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("ListAdminTokens on empty store = %v, %v", got, err)
		}
		before := time.Now().Add(-time.Minute)
		names := []string{"ci-deploy", "alice", "ci-deploy"} // names need not be unique
		var created []store.AdminToken
		for i, name := range names {
			hash := hashOf([]byte{byte(i)})
			tok, err := s.CreateAdminToken(ctx(t), name, hash)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID == 0 || tok.Name != name || tok.Hash != hash || tok.CreatedAt.Before(before) {
				t.Errorf("CreateAdminToken = %+v", tok)
			}
			created = append(created, tok)

			got, err := s.AdminTokenByHash(ctx(t), hash)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tok.ID || got.Name != name || got.Hash != hash || !got.CreatedAt.Equal(tok.CreatedAt) {
				t.Errorf("AdminTokenByHash = %+v, want %+v", got, tok)
			}
		}

		list, err := s.ListAdminTokens(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(list, func(a, b store.AdminToken) int { return cmp.Compare(a.ID, b.ID) })
		if len(list) != len(created) {
			t.Fatalf("ListAdminTokens returned %d tokens, want %d", len(list), len(created))
		}
		for i, tok := range list {
			if tok.Hash != "" {
				t.Errorf("ListAdminTokens returned a hash for token %d", tok.ID)
			}
			if tok.ID != created[i].ID || tok.Name != created[i].Name || !tok.CreatedAt.Equal(created[i].CreatedAt) {
				t.Errorf("ListAdminTokens[%d] = %+v, want %+v", i, tok, created[i])
			}
		}
	})

	t.Run("UnknownHash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if _, err := s.CreateAdminToken(ctx(t), "a", hashOf([]byte("a"))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AdminTokenByHash(ctx(t), hashOf([]byte("b"))); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AdminTokenByHash(unknown): err = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("DuplicateHashRefused", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		hash := hashOf([]byte("dup"))
		if _, err := s.CreateAdminToken(ctx(t), "first", hash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAdminToken(ctx(t), "second", hash); err == nil {
			t.Error("second CreateAdminToken with the same hash succeeded")
		}
		got, err := s.AdminTokenByHash(ctx(t), hash)
		if err != nil || got.Name != "first" {
			t.Errorf("AdminTokenByHash after duplicate = %+v, %v; want the first token", got, err)
		}
	})
}
