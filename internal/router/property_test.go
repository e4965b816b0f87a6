package router

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

var (
	propHosts   = []string{"x.com", "a.x.com", "b.a.x.com", "X.COM", "y.org", "q.y.org", "com", "", "x.com."}
	propMethods = []string{"GET", "HEAD", "POST", "DELETE", "PURGE", "OPTIONS"}
)

// propShape says what random tables look like.
type propShape struct {
	hostPatterns []string // Route.Hosts are drawn from these
	literals     []string // literal segments of patterns
	segments     []string // segments of request paths ("_" is the empty one)
	paramOdds    int      // out of 20: a segment is a {param}
	maxRoutes    int
}

var (
	// overlapping: a tiny alphabet and many host kinds, so that routes
	// compete on every rule.
	overlapping = propShape{
		hostPatterns: []string{"", "*", "x.com", "a.x.com", "*.x.com", "*.a.x.com", "*.com", "y.org", "X.Com"},
		literals:     strings.Fields("a b c"),
		segments:     strings.Fields("a b c _ zz"),
		paramOdds:    5,
		maxRoutes:    18,
	}
	// wide: many literals under few hosts, so that nodes have more literal
	// children than litSliceMax and host groups share segment ids.
	wide = propShape{
		hostPatterns: []string{"", "x.com", "*.x.com"},
		literals:     wideLiterals,
		segments:     append(slices.Clone(wideLiterals), "_", "zz"),
		paramOdds:    2,
		maxRoutes:    160,
	}
)

// wideLiterals has more literals than a node's slot table has slots, so that
// segment ids collide there.
var wideLiterals = strings.Fields("a b c d e f g h i j k l m n o p q r s t u v w x y z " +
	"aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss tt")

// randPattern returns a valid path pattern.
func randPattern(rng *rand.Rand, sh propShape) string {
	n := rng.IntN(4)
	if rng.IntN(4) == 0 {
		n = 4 + rng.IntN(2) // a few long ones, for deep prefixes
	}
	var b strings.Builder
	params := 0
	for i := range n {
		b.WriteByte('/')
		last := i == n-1
		switch x := rng.IntN(20); {
		case last && x < 2:
			fmt.Fprintf(&b, "{rest%d...}", rng.IntN(2))
		case last && x < 5:
			b.WriteByte('*')
		case last && x < 6:
			// trailing slash: "/a/" or "/{p}/"
			b.WriteString(sh.literals[rng.IntN(len(sh.literals))])
			b.WriteByte('/')
		case x < 6+sh.paramOdds:
			fmt.Fprintf(&b, "{p%d_%d}", params, rng.IntN(2))
			params++
		default:
			b.WriteString(sh.literals[rng.IntN(len(sh.literals))])
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

func randSubset(rng *rand.Rand, from []string, max int) []string {
	var out []string
	for range 1 + rng.IntN(max) {
		out = append(out, from[rng.IntN(len(from))])
	}
	return out
}

// randTable builds a table from random routes, dropping the second route of
// each conflict New reports until it accepts the rest.
func randTable(t *testing.T, rng *rand.Rand, sh propShape) ([]Route[string], *Table[string]) {
	var routes []Route[string]
	for i := range 4 + rng.IntN(sh.maxRoutes-3) {
		rt := Route[string]{Value: fmt.Sprintf("r%d", i)}
		for range 1 + rng.IntN(2) {
			rt.Paths = append(rt.Paths, randPattern(rng, sh))
		}
		if rng.IntN(3) > 0 {
			rt.Hosts = randSubset(rng, sh.hostPatterns, 2)
		}
		if rng.IntN(3) > 0 {
			rt.Methods = randSubset(rng, propMethods[:5], 2)
		}
		routes = append(routes, rt)
	}
	for {
		tab, err := New(routes)
		var ce *ConflictError
		if !errors.As(err, &ce) {
			if err != nil {
				t.Fatalf("New refused valid routes: %v%s", err, describe(routes))
			}
			return routes, tab
		}
		routes = slices.Delete(routes, ce.Second, ce.Second+1)
	}
}

func randPath(rng *rand.Rand, sh propShape) string {
	n := rng.IntN(7)
	if n == 0 {
		return "/"
	}
	segs := make([]string, n)
	for i := range segs {
		if segs[i] = sh.segments[rng.IntN(len(sh.segments))]; segs[i] == "_" {
			segs[i] = ""
		}
	}
	return "/" + strings.Join(segs, "/")
}

// TestMatchAgreesWithReference compares the table against the brute-force
// reference matcher on random route sets and requests.
func TestMatchAgreesWithReference(t *testing.T) {
	t.Parallel()
	for name, sh := range map[string]propShape{"overlapping": overlapping, "wide": wide} {
		for seed := range uint64(200) {
			t.Run(fmt.Sprint(name, seed), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
				routes, tab := randTable(t, rng, sh)
				for range 300 {
					host := propHosts[rng.IntN(len(propHosts))]
					method := propMethods[rng.IntN(len(propMethods))]
					path := randPath(rng, sh)
					if d := compareWithReference(routes, tab, host, method, path); d != "" {
						t.Fatalf("routes %s\nMatch(%q, %s, %q): %s", describe(routes), host, method, path, d)
					}
				}
			})
		}
	}
}

// compareWithReference returns "" when Match and refMatch agree.
func compareWithReference(routes []Route[string], tab *Table[string], host, method, path string) string {
	var params [pipeline.MaxParams]pipeline.Param
	m, n, res := tab.Match(host, method, path, params[:])
	want := refMatch(routes, host, method, path)
	got := refResult{res: res, value: m.Value, pattern: m.Pattern, allow: m.Allow}
	if n > 0 {
		got.params = params[:n]
	}
	if got.res != want.res || got.value != want.value || got.pattern != want.pattern ||
		got.allow != want.allow || !slices.Equal(got.params, want.params) {
		return fmt.Sprintf("got %+v, reference %+v", got, want)
	}
	return ""
}

func describe(routes []Route[string]) string {
	var b strings.Builder
	for _, rt := range routes {
		fmt.Fprintf(&b, "\n  %s hosts=%q paths=%q methods=%q", rt.Value, rt.Hosts, rt.Paths, rt.Methods)
	}
	return b.String()
}
