package config

import (
	"fmt"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/router"
)

// conflicts refuses two routes that claim the same host, path pattern and
// method: which one would win is ambiguous. Parameter names do not matter
// ("/users/{id}" and "/users/{uid}" are the same pattern); no hosts is the
// same as "*", and no methods only conflicts with no methods.
func (v *validator) conflicts(rs []Route) {
	type claim struct{ route, path int }
	claims := map[string]claim{}
	reported := map[[2]int]bool{}
	for i := range rs {
		r := &rs[i]
		hosts := r.Hosts
		if len(hosts) == 0 {
			hosts = []string{"*"}
		}
		methods := r.Methods
		if len(methods) == 0 {
			methods = []string{""}
		}
		for j, p := range r.Paths {
			if router.ValidatePath(p) != nil {
				continue
			}
			shape := pathShape(p)
			for _, h := range hosts {
				if router.ValidateHost(h) != nil {
					continue
				}
				h = strings.ToLower(h)
				for _, m := range methods {
					key := h + " " + shape + " " + m
					c, taken := claims[key]
					if !taken {
						claims[key] = claim{i, j}
						continue
					}
					if c.route == i || reported[[2]int{c.route, i}] {
						continue
					}
					reported[[2]int{c.route, i}] = true
					v.fail(index(join(index("routes", i), "paths"), j), fmt.Sprintf(
						"route %s conflicts with route %s (line %d): both match %s",
						routeLabel(rs, i), routeLabel(rs, c.route), v.d.at(index("routes", c.route)).line,
						describeClaim(m, v.display(index(join(index("routes", i), "paths"), j), p), h)))
				}
			}
		}
	}
}

// pathShape is a path pattern with parameter names removed.
func pathShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if strings.HasSuffix(s, "...}") {
				segs[i] = "{...}"
			} else {
				segs[i] = "{}"
			}
		}
	}
	return strings.Join(segs, "/")
}

func routeLabel(rs []Route, i int) string {
	if rs[i].Name == "" {
		return index("routes", i)
	}
	return fmt.Sprintf("%q", rs[i].Name)
}

// describeClaim reads "GET /users/{id} on host api.example.com" or
// "/users (any method) on any host".
func describeClaim(method, path, host string) string {
	s := method + " " + path
	if method == "" {
		s = path + " (any method)"
	}
	if host == "*" {
		return s + " on any host"
	}
	return s + " on host " + host
}
