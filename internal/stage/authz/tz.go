package authz

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Time zone names in policies (getHours("Europe/Berlin")) must work in
	// minimal containers without /usr/share/zoneinfo.
	_ "time/tzdata"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// CEL's timestamp accessors with a time zone argument load the zone from
// the time zone database on every call, which costs more than the rest of
// a policy. These replacements behave the same (zone names and "+01:00"
// offsets) with the zones cached.

// tzAccessors are the accessors that take a time zone, by overload id.
var tzAccessors = map[string]func(time.Time) int{
	overloads.TimestampToYearWithTz:                func(t time.Time) int { return t.Year() },
	overloads.TimestampToMonthWithTz:               func(t time.Time) int { return int(t.Month()) - 1 },
	overloads.TimestampToDayOfYearWithTz:           func(t time.Time) int { return t.YearDay() - 1 },
	overloads.TimestampToDayOfMonthZeroBasedWithTz: func(t time.Time) int { return t.Day() - 1 },
	overloads.TimestampToDayOfMonthOneBasedWithTz:  func(t time.Time) int { return t.Day() },
	overloads.TimestampToDayOfWeekWithTz:           func(t time.Time) int { return int(t.Weekday()) },
	overloads.TimestampToHoursWithTz:               func(t time.Time) int { return t.Hour() },
	overloads.TimestampToMinutesWithTz:             func(t time.Time) int { return t.Minute() },
	overloads.TimestampToSecondsWithTz:             func(t time.Time) int { return t.Second() },
	overloads.TimestampToMillisecondsWithTz:        func(t time.Time) int { return t.Nanosecond() / 1e6 },
}

// tzFunctions are the names of those accessors in expressions.
var tzFunctions = map[string]bool{
	overloads.TimeGetFullYear: true, overloads.TimeGetMonth: true, overloads.TimeGetDayOfYear: true,
	overloads.TimeGetDayOfMonth: true, overloads.TimeGetDate: true, overloads.TimeGetDayOfWeek: true,
	overloads.TimeGetHours: true, overloads.TimeGetMinutes: true, overloads.TimeGetSeconds: true,
	overloads.TimeGetMilliseconds: true,
}

// cachedTimeZones is the program option that installs the replacements.
func cachedTimeZones() cel.ProgramOption {
	fns := make([]*functions.Overload, 0, len(tzAccessors))
	for id, get := range tzAccessors {
		fns = append(fns, &functions.Overload{
			Operator: id,
			Binary: func(lhs, rhs ref.Val) ref.Val {
				ts, ok := lhs.(types.Timestamp)
				if !ok {
					return types.MaybeNoSuchOverloadErr(lhs)
				}
				tz, ok := rhs.(types.String)
				if !ok {
					return types.MaybeNoSuchOverloadErr(rhs)
				}
				loc, err := zone(string(tz))
				if err != nil {
					return types.WrapErr(err)
				}
				return types.Int(get(ts.In(loc)))
			},
		})
	}
	return cel.Functions(fns...)
}

// zoneCacheMax bounds the cache: zone names usually are constants of the
// expressions, but one read from a request attribute could be anything.
const zoneCacheMax = 256

var (
	zones     sync.Map // string → *time.Location
	zoneCount atomic.Int32
)

// zone returns the location named tz: an IANA zone name ("Europe/Berlin")
// or a fixed offset ("+05:30", "-08:00").
func zone(tz string) (*time.Location, error) {
	if l, ok := zones.Load(tz); ok {
		return l.(*time.Location), nil
	}
	l, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	if zoneCount.Load() < zoneCacheMax {
		if _, loaded := zones.LoadOrStore(tz, l); !loaded {
			zoneCount.Add(1)
		}
	}
	return l, nil
}

// loadZone parses tz the way CEL does.
func loadZone(tz string) (*time.Location, error) {
	i := strings.IndexByte(tz, ':')
	if i < 0 {
		return time.LoadLocation(tz)
	}
	hr, err := strconv.Atoi(tz[:i])
	if err != nil {
		return nil, fmt.Errorf("invalid time zone offset %q", tz)
	}
	mn, err := strconv.Atoi(tz[i+1:])
	if err != nil {
		return nil, fmt.Errorf("invalid time zone offset %q", tz)
	}
	if hr < -23 || hr > 23 {
		return nil, fmt.Errorf("timezone offset hours out of range [-23, 23]: %s", tz)
	}
	if mn < 0 || mn > 59 {
		return nil, fmt.Errorf("timezone offset minutes out of range [0, 59]: %s", tz)
	}
	offset := hr*60 + mn
	if tz[0] == '-' {
		offset = hr*60 - mn
	}
	return time.FixedZone("", offset*60), nil
}

// checkTimeZones reports a time zone literal that does not exist
// (getHours("Europe/Berln")) when the policy is compiled rather than
// refusing every request at run time.
func checkTimeZones(a *cel.Ast) error {
	native := a.NativeRep()
	var bad error
	ast.PostOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if bad != nil || e.Kind() != ast.CallKind {
			return
		}
		c := e.AsCall()
		if !c.IsMemberFunction() || !tzFunctions[c.FunctionName()] || len(c.Args()) != 1 {
			return
		}
		arg := c.Args()[0]
		if arg.Kind() != ast.LiteralKind {
			return
		}
		s, ok := arg.AsLiteral().(types.String)
		if !ok {
			return
		}
		if _, err := zone(string(s)); err != nil {
			loc := native.SourceInfo().GetStartLocation(arg.ID())
			bad = fmt.Errorf("%d:%d: %s(%q): %v", loc.Line(), loc.Column()+1, c.FunctionName(), string(s), err)
		}
	}))
	return bad
}
