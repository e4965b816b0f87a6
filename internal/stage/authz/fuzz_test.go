package authz

import (
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

// FuzzZoneMatchesCEL: the cached time zone accessors answer exactly as
// CEL's own (a zone name or offset that one accepts, the other accepts
// with the same result).
func FuzzZoneMatchesCEL(f *testing.F) {
	for _, s := range []string{"Europe/Berlin", "UTC", "+05:30", "-00:30", "+24:00", "1:60", ":", "-:5", "+1:2", "America/New_York", "Local", ""} {
		f.Add(s)
	}
	env, err := cel.NewEnv(cel.Variable("t", cel.TimestampType), cel.Variable("tz", cel.StringType), cel.DefaultUTCTimeZone(true))
	if err != nil {
		f.Fatal(err)
	}
	ast, iss := env.Compile("t.getHours(tz) * 60 + t.getMinutes(tz)")
	if iss.Err() != nil {
		f.Fatal(iss.Err())
	}
	std, err := env.Program(ast)
	if err != nil {
		f.Fatal(err)
	}
	ours, err := env.Program(ast, cachedTimeZones())
	if err != nil {
		f.Fatal(err)
	}
	at := types.Timestamp{Time: time.Date(2026, 7, 1, 12, 34, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, tz string) {
		if strings.ContainsAny(tz, "\x00") || len(tz) > 64 {
			return
		}
		in := map[string]any{"t": at, "tz": tz}
		a, _, errA := std.Eval(in)
		b, _, errB := ours.Eval(in)
		if (errA != nil) != (errB != nil) {
			t.Fatalf("%q: CEL %v %v, cached %v %v", tz, a, errA, b, errB)
		}
		if errA == nil && a.Equal(b) != types.True {
			t.Fatalf("%q: CEL %v, cached %v", tz, a, b)
		}
	})
}
