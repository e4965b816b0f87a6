package postgres

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var day0 = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// callsOnDays inserts perDay records at noon of each of days days from day0.
func callsOnDays(t *testing.T, s *Store, days, perDay int) []store.Call {
	t.Helper()
	var calls []store.Call
	for d := range days {
		for i := range perDay {
			calls = append(calls, store.Call{Time: day0.AddDate(0, 0, d).Add(12*time.Hour + time.Duration(i)*time.Second),
				RequestID: fmt.Sprintf("d%d-%d", d, i), Method: "GET", Status: 200})
		}
	}
	if err := s.InsertCalls(t.Context(), calls); err != nil {
		t.Fatal(err)
	}
	return calls
}

func partitionNames(t *testing.T, s *Store) []string {
	t.Helper()
	parts, err := listPartitions(t.Context(), s.pool)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range parts {
		if !p.attached {
			t.Errorf("partition %s left detached", p.name)
		}
		names = append(names, p.name)
	}
	return names
}

func TestInsertCreatesDailyPartitionsAhead(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	callsOnDays(t, s, 2, 3)
	want := []string{"calls_p20260314", "calls_p20260315", "calls_p20260316"}
	if got := partitionNames(t, s); !slices.Equal(got, want) {
		t.Errorf("partitions = %v, want %v (each day's and the next, ahead)", got, want)
	}
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM calls_p20260315`).Scan(&n); err != nil || n != 3 {
		t.Errorf("calls_p20260315 holds %d records, %v; want that day's 3", n, err)
	}
}

func TestPruneByAgeDropsWholeDays(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	in := callsOnDays(t, s, 3, 4)
	// Everything before noon + 2s of the third day: two whole days dropped,
	// two records of the third deleted.
	cut := day0.AddDate(0, 0, 2).Add(12*time.Hour + 2*time.Second)
	n, err := s.PruneCalls(t.Context(), cut, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("PruneCalls deleted %d, want 10", n)
	}
	want := []string{"calls_p20260316", "calls_p20260317"}
	if got := partitionNames(t, s); !slices.Equal(got, want) {
		t.Errorf("partitions after prune = %v, want %v", got, want)
	}
	left, err := s.QueryCalls(t.Context(), store.CallQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].Seq != in[10].Seq || left[1].Seq != in[11].Seq {
		t.Errorf("left %+v, want the last two records", left)
	}
}

func TestPruneByCountDropsWholeDays(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	in := callsOnDays(t, s, 3, 4)
	n, err := s.PruneCalls(t.Context(), time.Time{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Errorf("PruneCalls deleted %d, want 9", n)
	}
	if got, want := partitionNames(t, s), []string{"calls_p20260316", "calls_p20260317"}; !slices.Equal(got, want) {
		t.Errorf("partitions after prune = %v, want %v", got, want)
	}
	left, err := s.QueryCalls(t.Context(), store.CallQuery{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 3 || left[0].Seq != in[9].Seq {
		t.Errorf("left %d records from seq %d, want 3 from %d", len(left), left[0].Seq, in[9].Seq)
	}
}

// TestInsertIntoDayPrunedByAnotherGateway: a gateway whose cache still
// lists a partition another gateway dropped recreates it and loses nothing.
func TestInsertIntoDayPrunedByAnotherGateway(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	a, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	callsOnDays(t, b, 1, 1) // b now knows calls_p20260314 exists
	if n, err := a.PruneCalls(t.Context(), day0.AddDate(0, 0, 1), 0); err != nil || n != 1 {
		t.Fatalf("prune through a = %d, %v; want 1", n, err)
	}
	late := []store.Call{{Time: day0.Add(time.Hour), RequestID: "late", Method: "GET", Status: 200}}
	if err := b.InsertCalls(t.Context(), late); err != nil {
		t.Fatalf("insert into a dropped day: %v", err)
	}
	got, err := a.QueryCalls(t.Context(), store.CallQuery{RequestID: "late"})
	if err != nil || len(got) != 1 || got[0].Seq != late[0].Seq {
		t.Errorf("late record = %+v, %v", got, err)
	}
}
