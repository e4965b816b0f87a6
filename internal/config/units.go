package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("250ms", "30s", "1h").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Or returns d, or def when d is zero.
func (d Duration) Or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// UnmarshalText parses a Go duration string; negative durations are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (examples: 500ms, 30s, 5m)", string(b))
	}
	if v < 0 {
		return fmt.Errorf("duration %q must not be negative", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// ByteSize is a size in bytes written as a number with an optional unit:
// B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024). Example: "10MiB".
type ByteSize int64

// Or returns s, or def when s is zero.
func (s ByteSize) Or(def int64) int64 {
	if s == 0 {
		return def
	}
	return int64(s)
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalText parses a size such as "512", "64KiB" or "10MB".
func (s *ByteSize) UnmarshalText(b []byte) error {
	str := strings.TrimSpace(string(b))
	mult := int64(1)
	num := str
	for _, u := range sizeUnits {
		if strings.HasSuffix(str, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(str, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid size %q (examples: 4096, 64KiB, 10MiB)", str)
	}
	if n > (1<<62)/mult {
		return fmt.Errorf("size %q is too large", str)
	}
	*s = ByteSize(n * mult)
	return nil
}

// MarshalText writes s in the largest binary unit that divides it.
func (s ByteSize) MarshalText() ([]byte, error) {
	n := int64(s)
	switch {
	case n != 0 && n%(1<<30) == 0:
		return []byte(strconv.FormatInt(n>>30, 10) + "GiB"), nil
	case n != 0 && n%(1<<20) == 0:
		return []byte(strconv.FormatInt(n>>20, 10) + "MiB"), nil
	case n != 0 && n%(1<<10) == 0:
		return []byte(strconv.FormatInt(n>>10, 10) + "KiB"), nil
	}
	return []byte(strconv.FormatInt(n, 10)), nil
}
