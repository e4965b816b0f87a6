package pricing

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseRateExact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in       string
		pico     int64 // picodollars per token
		rendered string
	}{
		{"2.50", 2_500_000, "2.5"},
		{"0", 0, "0"},
		{"0.000001", 1, "0.000001"},
		{"0.01875", 18_750, "0.01875"},
		{"75", 75_000_000, "75"},
		{"2.5000000000", 2_500_000, "2.5"}, // trailing zeros hold no extra precision
		{"1000000", 1_000_000_000_000, "1000000"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRate(c.in)
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", c.in, err)
			}
			if r.picoPerToken != c.pico {
				t.Fatalf("ParseRate(%q) = %d pico/token, want %d", c.in, r.picoPerToken, c.pico)
			}
			if got := r.String(); got != c.rendered {
				t.Fatalf("String() = %q, want %q", got, c.rendered)
			}
		})
	}
}

func TestParseRateRefuses(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                     "empty",
		"-1":                   "negative",
		"-0.5":                 "negative",
		"0.0000001":            "7 decimal places",
		"1.2345678":            "7 decimal places",
		"1e-3":                 "not a price",
		"+2":                   "not a price",
		"2.":                   "not a price",
		".5":                   "not a price",
		"2,50":                 "not a price",
		" 2.5":                 "not a price",
		"0x10":                 "not a price",
		"NaN":                  "not a price",
		"99999999999999999999": "too large",
		"9223372036855":        "too large", // × 10^6 overflows int64
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRate(in)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("ParseRate(%q) error = %v, want one mentioning %q", in, err, want)
			}
		})
	}
}

func TestParseMoney(t *testing.T) {
	t.Parallel()
	m, err := ParseMoney("12.50")
	if err != nil || m.Picodollars() != 12_500_000_000_000 || m.String() != "12.5" {
		t.Fatalf("ParseMoney(12.50) = %v (%d), %v", m, m.Picodollars(), err)
	}
	m, err = ParseMoney("0.000000000001")
	if err != nil || m.Picodollars() != 1 || m.String() != "0.000000000001" {
		t.Fatalf("one picodollar: %v %v", m, err)
	}
	if _, err := ParseMoney("0.0000000000001"); err == nil || !strings.Contains(err.Error(), "13 decimal places") {
		t.Fatalf("13 decimals accepted: %v", err)
	}
	if _, err := ParseMoney("-1"); err == nil {
		t.Fatal("negative budget accepted")
	}
	if USD(50).String() != "50" || USD(-2).String() != "-2" {
		t.Fatalf("USD: %v %v", USD(50), USD(-2))
	}
}

func TestMoneyStringEdges(t *testing.T) {
	t.Parallel()
	cases := map[int64]string{
		0:                   "0",
		1:                   "0.000000000001",
		123_400_000:         "0.0001234",
		1_000_000_000_000:   "1",
		-1:                  "-0.000000000001",
		math.MaxInt64:       "9223372.036854775807",
		math.MinInt64:       "-9223372.036854775808",
		-12_500_000_000_000: "-12.5",
	}
	for pico, want := range cases {
		if got := FromPicodollars(pico).String(); got != want {
			t.Errorf("FromPicodollars(%d).String() = %q, want %q", pico, got, want)
		}
	}
}

func TestMoneyArithmeticSaturates(t *testing.T) {
	t.Parallel()
	if got := MaxMoney.Add(FromPicodollars(1)); got != MaxMoney {
		t.Fatalf("MaxMoney+1 = %v, want saturation", got)
	}
	min := FromPicodollars(math.MinInt64)
	if got := min.Sub(FromPicodollars(1)); got != min {
		t.Fatalf("Min-1 = %v, want saturation", got)
	}
	if got := FromPicodollars(5).Sub(min); got != MaxMoney {
		t.Fatalf("5 - Min = %v, want MaxMoney", got)
	}
	budget, spent := USD(10), MustRate("2.50").Times(5_000_000) // $12.50
	if budget.Sub(spent).String() != "-2.5" || !budget.Less(spent) || spent.Cmp(budget) != 1 || budget.Cmp(budget) != 0 {
		t.Fatalf("budget comparison wrong: remaining %v", budget.Sub(spent))
	}
	if got := MustRate("75").Times(math.MaxInt64); got != MaxMoney {
		t.Fatalf("huge token count = %v, want saturation", got)
	}
	if got := MustRate("75").Times(-5); !got.IsZero() {
		t.Fatalf("negative tokens cost %v", got)
	}
}

func TestMoneyJSON(t *testing.T) {
	t.Parallel()
	type rec struct {
		Cost Money `json:"cost"`
	}
	b, err := json.Marshal(rec{FromPicodollars(123_400_000)})
	if err != nil || string(b) != `{"cost":"0.0001234"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var r rec
	if err := json.Unmarshal(b, &r); err != nil || r.Cost.Picodollars() != 123_400_000 {
		t.Fatalf("Unmarshal = %v, %v", r.Cost, err)
	}
	if err := json.Unmarshal([]byte(`{"cost":"-2.5"}`), &r); err != nil || r.Cost != USD(-2).Sub(FromPicodollars(500_000_000_000)) {
		t.Fatalf("negative round trip: %v %v", r.Cost, err)
	}
	for _, bad := range []string{`{"cost":0.1}`, `{"cost":"1e-3"}`, `{"cost":"--1"}`, `{"cost":null}`} {
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"2.50", "0.000001", "-1", "1e5", "", ".", "9223372036854.775807", "007.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		// Whatever parses must render to a form that parses to the same value.
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("%q → %q → %v, %v", s, r.String(), back, err)
		}
	})
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12.50", "0.000000000001", "9223372.036854775807", "9223372.036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		if m.Picodollars() < 0 {
			t.Fatalf("%q parsed negative", s)
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("%q → %q → %v, %v", s, m.String(), back, err)
		}
	})
}
