package quota

import (
	"testing"
	"time"
)

func TestPeriodWindows(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name, kind, zone string
		at               string
		start, end       string
	}{
		{"utc day", "day", "", "2026-03-01T12:00:00Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
		{"utc day at its first instant", "day", "UTC", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"},
		{"utc day at its last instant", "day", "UTC", "2026-03-01T23:59:59.999999999Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
		{"berlin day in winter starts 23:00 UTC", "day", "Europe/Berlin", "2026-01-15T23:30:00Z", "2026-01-15T23:00:00Z", "2026-01-16T23:00:00Z"},
		{"berlin day in summer starts 22:00 UTC", "day", "Europe/Berlin", "2026-07-01T21:59:59Z", "2026-06-30T22:00:00Z", "2026-07-01T22:00:00Z"},
		{"berlin spring-forward day has 23 hours", "day", "Europe/Berlin", "2026-03-29T12:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
		{"berlin fall-back day has 25 hours", "day", "Europe/Berlin", "2026-10-25T12:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
		{"new york day", "day", "America/New_York", "2026-03-02T03:00:00Z", "2026-03-01T05:00:00Z", "2026-03-02T05:00:00Z"},
		{"utc month", "month", "UTC", "2026-03-31T23:59:59Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"},
		{"january ends on the 31st", "month", "UTC", "2026-01-31T12:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
		{"february of a common year", "month", "UTC", "2026-02-28T23:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		{"february of a leap year", "month", "UTC", "2028-02-29T12:00:00Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
		{"december rolls into the next year", "month", "UTC", "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"berlin month starts the evening before in UTC", "month", "Europe/Berlin", "2026-03-31T22:30:00Z", "2026-03-31T22:00:00Z", "2026-04-30T22:00:00Z"},
		{"berlin month across the DST change", "month", "Europe/Berlin", "2026-03-15T00:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"},
		{"new york month", "month", "America/New_York", "2026-12-01T04:59:59Z", "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPeriod(c.kind, c.zone)
			if err != nil {
				t.Fatal(err)
			}
			w := p.At(utc(c.at))
			if !w.Start.Equal(utc(c.start)) || !w.End.Equal(utc(c.end)) {
				t.Errorf("At(%s) = [%s, %s), want [%s, %s)", c.at, w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), c.start, c.end)
			}
			if w.Start.Location() != time.UTC {
				t.Errorf("start in %v, want UTC", w.Start.Location())
			}
		})
	}
}

// The cached window must never answer for an instant outside it, in
// either direction.
func TestPeriodCache(t *testing.T) {
	t.Parallel()
	p, _ := NewPeriod("day", "Europe/Berlin")
	base := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, 11 * time.Hour, 30 * time.Minute, -13 * time.Hour, 48 * time.Hour, 0} {
		at := base.Add(d)
		got, want := p.At(at), p.compute(at)
		if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
			t.Errorf("At(%v) = %v, want %v", at, got.Start, want.Start)
		}
	}
}

func TestNewPeriodErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewPeriod("week", ""); err == nil {
		t.Error("week accepted")
	}
	if _, err := NewPeriod("day", "Mars/Olympus"); err == nil {
		t.Error("unknown zone accepted")
	}
}
