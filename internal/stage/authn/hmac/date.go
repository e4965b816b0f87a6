package hmac

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// parseDate parses an HTTP date. The IMF-fixdate form every client sends
// ("Sun, 06 Nov 1994 08:49:37 GMT") is read without allocating (time.Parse
// allocates a zone for "GMT"); the obsolete forms of RFC 9110 §5.6.7 go
// through http.ParseTime.
func parseDate(s string) (time.Time, bool) {
	if t, ok := parseIMFFixdate(s); ok {
		return t, true
	}
	t, err := http.ParseTime(s)
	return t, err == nil
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

var days = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func parseIMFFixdate(s string) (time.Time, bool) {
	// Sun, 06 Nov 1994 08:49:37 GMT
	// 0123456789012345678901234567
	if len(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[5:7])
	year, ok2 := digits(s[12:16])
	hour, ok3 := digits(s[17:19])
	minute, ok4 := digits(s[20:22])
	sec, ok5 := digits(s[23:25])
	month := -1
	for i, m := range months {
		if s[8:11] == m {
			month = i + 1
		}
	}
	weekday := -1
	for i, d := range days {
		if s[:3] == d {
			weekday = i
		}
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month < 0 || weekday < 0 ||
		day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 Feb
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// fmtDuration formats d for a caller: whole seconds, zero units dropped
// ("7m12s", "5m", "1h30m"); below a second, milliseconds ("250ms").
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10))
		b.WriteByte('h')
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(m, 10))
		b.WriteByte('m')
	}
	if s > 0 {
		b.WriteString(strconv.FormatInt(s, 10))
		b.WriteByte('s')
	}
	return b.String()
}
