package pricing

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// Money is an amount of US dollars held exactly as an integer number of
// picodollars (10^-12 USD), so that per-token costs, their sums and budget
// comparisons never round. The zero value is $0.
//
// An int64 of picodollars holds up to $9,223,372.036854775807 in either
// direction. Arithmetic saturates at that bound instead of wrapping: a
// saturated total still compares above every budget a config can hold, so a
// budget check stays on the safe side even for absurd token counts.
type Money struct{ pico int64 }

// moneyScale is the number of decimal places Money keeps.
const moneyScale = 12

// MaxMoney is the largest amount Money holds; sums saturate here.
var MaxMoney = Money{math.MaxInt64}

// Picodollars returns m as an integer number of 10^-12 USD: the form to
// store in a database column or a counter (it is exact, and int64).
func (m Money) Picodollars() int64 { return m.pico }

// FromPicodollars is the inverse of Picodollars.
func FromPicodollars(p int64) Money { return Money{p} }

// USD returns a whole-dollar amount (a budget of 50 USD is USD(50)).
func USD(dollars int64) Money {
	if dollars < 0 {
		return Money{}.Sub(USD(-max(dollars, -math.MaxInt64)))
	}
	return Money{satMul(dollars, 1_000_000_000_000)}
}

// ParseMoney reads a non-negative decimal USD amount such as "12.50" or
// "0.000001" exactly. It refuses signs, exponents, thousands separators and
// more than 12 decimal places (digits a picodollar cannot hold), except
// trailing zeros.
func ParseMoney(s string) (Money, error) {
	v, err := parseDecimal(s, moneyScale, "an amount in USD")
	return Money{v}, err
}

// Add returns m + o, saturating at ±MaxMoney.
func (m Money) Add(o Money) Money { return Money{satAdd(m.pico, o.pico)} }

// Sub returns m - o, saturating at ±MaxMoney. A budget's remaining amount is
// budget.Sub(spent), negative once it is overspent.
func (m Money) Sub(o Money) Money {
	if o.pico == math.MinInt64 {
		return Money{satAdd(satAdd(m.pico, math.MaxInt64), 1)}
	}
	return Money{satAdd(m.pico, -o.pico)}
}

// Cmp compares m and o: -1 when m < o, 0 when equal, +1 when m > o.
func (m Money) Cmp(o Money) int {
	switch {
	case m.pico < o.pico:
		return -1
	case m.pico > o.pico:
		return 1
	}
	return 0
}

// Less reports whether m < o.
func (m Money) Less(o Money) bool { return m.pico < o.pico }

// IsZero reports whether m is $0.
func (m Money) IsZero() bool { return m.pico == 0 }

// String renders m in USD as a plain decimal with no trailing zeros and no
// currency sign: "0.0001234", "12.5", "0", "-3".
func (m Money) String() string { return string(m.AppendText(nil)) }

// AppendText appends String's form to b without allocating more than b needs.
func (m Money) AppendText(b []byte) []byte { return appendDecimal(b, m.pico, moneyScale) }

// MarshalText renders m as String does (YAML and config files).
func (m Money) MarshalText() ([]byte, error) { return m.AppendText(nil), nil }

// UnmarshalText parses an amount as ParseMoney does, so budgets written in a
// config file ("daily_usd: 12.50") are exact.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err == nil {
		*m = v
	}
	return err
}

// MarshalJSON renders m as a JSON string ("0.0001234"): JSON numbers are
// doubles in most readers and would round the amount.
func (m Money) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 24), '"')
	b = m.AppendText(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts only the string form MarshalJSON writes; a JSON
// number is refused because it may already have been rounded by its writer.
func (m *Money) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("an amount in USD must be a JSON string such as \"0.0001234\"")
	}
	s := string(b[1 : len(b)-1])
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	if neg {
		v.pico = -v.pico
	}
	*m = v
	return nil
}

// Rate is a price in USD per one million tokens, as providers publish it
// ("2.50" means $2.50 per 1M tokens). It is held exactly as an integer
// number of picodollars per token, which is the same as micro-dollars per
// million tokens: up to 6 decimal places of the per-million price.
type Rate struct{ picoPerToken int64 }

// rateScale is the number of decimal places of a per-million price a Rate keeps.
const rateScale = 6

// ParseRate reads a non-negative decimal USD price per 1M tokens such as
// "2.50" or "0.01875" exactly. It refuses signs, exponents and more than 6
// decimal places (except trailing zeros).
func ParseRate(s string) (Rate, error) {
	v, err := parseDecimal(s, rateScale, "a price in USD per 1M tokens")
	return Rate{v}, err
}

// MustRate is ParseRate for constants in code and tests; it panics on a
// malformed price.
func MustRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// PerToken returns the exact cost of one token at this rate.
func (r Rate) PerToken() Money { return Money{r.picoPerToken} }

// Times returns the exact cost of n tokens at this rate (n < 0 counts as 0),
// saturating at MaxMoney.
func (r Rate) Times(n int64) Money {
	if n <= 0 || r.picoPerToken <= 0 {
		return Money{}
	}
	return Money{satMul(n, r.picoPerToken)}
}

// String renders the per-million price as a plain decimal: "2.5", "0.01875".
func (r Rate) String() string { return string(appendDecimal(nil, r.picoPerToken, rateScale)) }

// MarshalText renders the rate as String does.
func (r Rate) MarshalText() ([]byte, error) {
	return appendDecimal(nil, r.picoPerToken, rateScale), nil
}

// UnmarshalText parses a rate as ParseRate does.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err == nil {
		*r = v
	}
	return err
}

// parseDecimal parses an unsigned decimal with at most scale significant
// fraction digits into an integer scaled by 10^scale. what names the
// expected value in error messages.
func parseDecimal(s string, scale int, what string) (int64, error) {
	if s == "" {
		return 0, errors.New("expected " + what + ", got an empty value")
	}
	if s[0] == '-' {
		return 0, errors.New(strconv.Quote(s) + " is negative; expected " + what)
	}
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) || len(s) > 0 && s[len(s)-1] == '.' {
		return 0, errors.New(strconv.Quote(s) + " is not " + what + " (write a plain decimal such as \"2.50\")")
	}
	trimmed := frac
	for len(trimmed) > 0 && trimmed[len(trimmed)-1] == '0' {
		trimmed = trimmed[:len(trimmed)-1]
	}
	if len(trimmed) > scale {
		return 0, errors.New(strconv.Quote(s) + " has " + strconv.Itoa(len(trimmed)) +
			" decimal places; at most " + strconv.Itoa(scale) + " are kept exactly")
	}
	var v uint64
	for i := 0; i < len(intPart); i++ {
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(intPart[i]-'0'), 0)
		if hi != 0 || carry != 0 || lo > math.MaxInt64 {
			return 0, errors.New(strconv.Quote(s) + " is too large")
		}
		v = lo
	}
	for i := 0; i < scale; i++ {
		d := uint64(0)
		if i < len(trimmed) {
			d = uint64(trimmed[i] - '0')
		}
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 || lo > math.MaxInt64 {
			return 0, errors.New(strconv.Quote(s) + " is too large")
		}
		v = lo
	}
	return int64(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendDecimal appends v / 10^scale as a minimal decimal.
func appendDecimal(b []byte, v int64, scale int) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = uint64(-(v + 1)) + 1 // also right for math.MinInt64
	}
	var digits [20]byte
	i := len(digits)
	for n := 0; n < scale || u > 0; n++ {
		i--
		digits[i] = byte('0' + u%10)
		u /= 10
	}
	whole, frac := digits[i:len(digits)-scale], digits[len(digits)-scale:]
	if len(whole) == 0 {
		b = append(b, '0')
	} else {
		b = append(b, whole...)
	}
	end := len(frac)
	for end > 0 && frac[end-1] == '0' {
		end--
	}
	if end > 0 {
		b = append(b, '.')
		b = append(b, frac[:end]...)
	}
	return b
}

func satAdd(a, b int64) int64 {
	s := a + b
	if a > 0 && b > 0 && s < 0 {
		return math.MaxInt64
	}
	if a < 0 && b < 0 && s >= 0 {
		return math.MinInt64
	}
	return s
}

// satMul multiplies two non-negative int64s, saturating at MaxInt64; a
// negative operand yields 0 (callers pass token counts and rates).
func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

// Cmp compares two rates: -1, 0 or +1.
func (r Rate) Cmp(o Rate) int { return Money{r.picoPerToken}.Cmp(Money{o.picoPerToken}) }

// IsZero reports whether the rate is free.
func (r Rate) IsZero() bool { return r.picoPerToken == 0 }
