package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Ratio is a share from 0 to 1, written as a fraction ("0.05") or a
// percentage ("5%").
type Ratio float64

// F returns r as a float64.
func (r Ratio) F() float64 { return float64(r) }

// UnmarshalText parses "0.05" or "5%"; values outside 0..1 are refused.
func (r *Ratio) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	pct := strings.HasSuffix(s, "%")
	num := strings.TrimSpace(strings.TrimSuffix(s, "%"))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("invalid ratio %q (examples: 0.05, 5%%)", string(b))
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("ratio %q must be between 0 and 1 (0%% and 100%%)", string(b))
	}
	*r = Ratio(f)
	return nil
}

// MarshalText writes r as a percentage ("5%").
func (r Ratio) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// String writes r as a percentage ("5%", "0.5%").
func (r Ratio) String() string {
	return strconv.FormatFloat(float64(r)*100, 'g', 6, 64) + "%"
}
