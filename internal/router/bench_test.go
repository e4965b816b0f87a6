package router

import (
	"fmt"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// benchRoutes builds n routes spread over ten hosts, a wildcard host and any
// host: ~40% exact paths, ~40% with one or two parameters, ~20% prefixes.
func benchRoutes(n int) []Route[int] {
	routes := make([]Route[int], 0, n)
	for i := range n {
		var hosts []string
		switch h := i % 12; h {
		case 10: // any host
		case 11:
			hosts = []string{"*.example.com"}
		default:
			hosts = []string{fmt.Sprintf("svc%d.example.com", h)}
		}
		var path string
		switch i % 5 {
		case 0:
			path = fmt.Sprintf("/v1/res%d", i)
		case 1:
			path = fmt.Sprintf("/v1/res%d/summary", i)
		case 2:
			path = fmt.Sprintf("/v1/res%d/{id}", i)
		case 3:
			path = fmt.Sprintf("/v1/res%d/{id}/items/{item}", i)
		case 4:
			path = fmt.Sprintf("/static/res%d/*", i)
		}
		methods := []string{"GET"}
		if i%3 == 0 {
			methods = []string{"GET", "POST"}
		}
		routes = append(routes, Route[int]{Hosts: hosts, Paths: []string{path}, Methods: methods, Value: i})
	}
	return routes
}

func BenchmarkMatch1000(b *testing.B) {
	tab, err := New(benchRoutes(1000))
	if err != nil {
		b.Fatal(err)
	}
	// Route i lives on svc(i%12).example.com and i%5 picks its kind:
	// 41 is an exact path, 63 has two parameters, 124 is a prefix, and 1
	// accepts only GET.
	cases := []struct {
		name, host, method, path string
		want                     Result
	}{
		{"hit_exact", "svc5.example.com", "GET", "/v1/res41/summary", Matched},
		{"hit_param", "svc3.example.com", "GET", "/v1/res63/12345/items/abc", Matched},
		{"hit_prefix", "svc4.example.com", "GET", "/static/res124/css/site.css", Matched},
		{"miss_404", "svc5.example.com", "GET", "/v2/nothing/here", NotFound},
		{"method_405", "svc1.example.com", "DELETE", "/v1/res1/summary", MethodNotAllowed},
	}
	for _, c := range cases {
		var params [pipeline.MaxParams]pipeline.Param
		if _, _, res := tab.Match(c.host, c.method, c.path, params[:]); res != c.want {
			b.Fatalf("%s: Match = %v, want %v", c.name, res, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tab.Match(c.host, c.method, c.path, params[:])
			}
		})
	}
}
