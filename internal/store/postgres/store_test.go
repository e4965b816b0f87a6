package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

func TestOpenRefusesBadDSN(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-password"
	_, err := Open(t.Context(), "postgres://u:"+secret+"@[::1/x")
	if err == nil {
		t.Fatal("Open with an unparsable DSN succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q echoes the password", err)
	}
}

func TestAppendRevisionRefusesWrongHash(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	r := store.Revision{Author: "a", Source: "s", Document: []byte("x"), Hash: strings.Repeat("0", 64)}
	if _, err := s.AppendRevision(t.Context(), r); err == nil {
		t.Fatal("AppendRevision with a hash not matching the document succeeded")
	}
	if _, err := s.LatestRevision(t.Context()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused revision was stored: %v", err)
	}
	// The refused append did not use up a number.
	got, err := s.AppendRevision(t.Context(), store.Revision{Author: "a", Source: "s", Document: []byte("x")})
	if err != nil || got.Number != 1 {
		t.Errorf("next append = %d, %v; want number 1", got.Number, err)
	}
}

func TestQueryCallsRefusesBadStatusClass(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	for _, class := range []int{-1, 6, 42} {
		if _, err := s.QueryCalls(t.Context(), store.CallQuery{StatusClass: class}); err == nil {
			t.Errorf("StatusClass %d accepted", class)
		}
	}
}

func TestInsertCallsFailureResetsSeq(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	// A NUL byte is not valid in a PostgreSQL text value: COPY fails and the
	// whole batch rolls back.
	calls := []store.Call{{RequestID: "ok", Method: "GET"}, {RequestID: "bad\x00", Method: "GET"}}
	if err := s.InsertCalls(t.Context(), calls); err == nil {
		t.Fatal("InsertCalls with an invalid value succeeded")
	}
	for i, c := range calls {
		if c.Seq != 0 {
			t.Errorf("call %d kept Seq %d after a failed insert", i, c.Seq)
		}
	}
	if got, err := s.QueryCalls(t.Context(), store.CallQuery{}); err != nil || len(got) != 0 {
		t.Errorf("after a failed batch: %d records, %v; want none", len(got), err)
	}
	good := []store.Call{{RequestID: "ok", Method: "GET"}}
	if err := s.InsertCalls(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	if good[0].Seq != 1 {
		t.Errorf("Seq after a rolled-back batch = %d, want 1 (no numbers lost)", good[0].Seq)
	}
}

func TestCreateTokenRefusesNonHash(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	for _, tt := range []struct{ name, value string }{
		{"raw token", "ppa_live_s3cr3tvalue"},
		{"uppercase hex", strings.Repeat("AB", 32)},
		{"short", strings.Repeat("a", 63)},
		{"empty", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.CreateAdminToken(t.Context(), "ci", tt.value)
			if !errors.Is(err, ErrInvalidTokenHash) {
				t.Fatalf("CreateAdminToken err = %v, want ErrInvalidTokenHash", err)
			}
			if tt.value != "" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q echoes the value", err)
			}
			_, err = s.CreateAPIKey(t.Context(), store.APIKey{ID: "k" + tt.name, Env: "live", ConsumerID: "c", Hash: tt.value})
			if !errors.Is(err, ErrInvalidTokenHash) {
				t.Fatalf("CreateAPIKey err = %v, want ErrInvalidTokenHash", err)
			}
		})
	}
}
