// Package storetest is the conformance suite every store.Store implementation
// runs from its own tests, so the embedded SQLite store and a PostgreSQL store
// behave the same:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open must return a new, empty store for each call; subtests run in parallel.
// The suite only uses times with microsecond precision, the finest both
// SQLite and PostgreSQL keep.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Run exercises every method of store.Store against fresh stores from open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	t.Run("Revisions", func(t *testing.T) {
		t.Parallel()
		runRevisions(t, open)
	})
	t.Run("Calls", func(t *testing.T) {
		t.Parallel()
		runCalls(t, open)
	})
	t.Run("AdminTokens", func(t *testing.T) {
		t.Parallel()
		runAdminTokens(t, open)
	})
	t.Run("Identities", func(t *testing.T) {
		t.Parallel()
		runIdentities(t, open)
	})
	t.Run("Quotas", func(t *testing.T) {
		t.Parallel()
		runQuotas(t, open)
	})
	t.Run("Idempotency", func(t *testing.T) {
		t.Parallel()
		runIdempotency(t, open)
	})
	t.Run("Audit", func(t *testing.T) {
		t.Parallel()
		runAudit(t, open)
	})
	t.Run("Rollups", func(t *testing.T) {
		t.Parallel()
		runRollups(t, open)
	})
	t.Run("TokenKeys", func(t *testing.T) {
		t.Parallel()
		runTokenKeys(t, open)
	})
	t.Run("AIUsage", func(t *testing.T) {
		t.Parallel()
		runAIUsage(t, open)
	})
}

// base is a fixed, microsecond-precision instant the suite builds times from.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func ctx(t *testing.T) context.Context { return t.Context() }
