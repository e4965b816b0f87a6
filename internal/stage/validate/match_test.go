package validate

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestFind matches request paths against testdata/specs/servers.yaml:
// server variables, a path with its own servers, precedence of literal
// and templated segments, and parameters inside a segment.
func TestFind(t *testing.T) {
	t.Parallel()
	d, err := loadDocument("testdata/specs/servers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		template     string // "" for no match
		params       map[string]string
	}{
		{"GET", "/api/v1/status", "/status", nil},
		{"GET", "/api/v2/status", "/status", nil},
		{"GET", "/status", "/status", nil}, // the server "/"
		{"GET", "/api/v3/status", "", nil},
		{"GET", "/api/v2", "", nil},
		{"GET", "/old/legacy/ping", "/legacy/ping", nil},
		{"GET", "/legacy/ping", "", nil}, // its servers replace the document's
		{"GET", "/api/v2/legacy/ping", "", nil},
		{"GET", "/files/report.tar.gz", "/files/{name}.{ext}", map[string]string{"name": "report", "ext": "tar.gz"}},
		{"GET", "/files/report.txt", "/files/{name}.{ext}", map[string]string{"name": "report", "ext": "txt"}},
		{"GET", "/files/.txt", "/files/{name}", map[string]string{"name": ".txt"}},
		{"GET", "/files/report.", "/files/{name}", map[string]string{"name": "report."}},
		{"GET", "/files/report", "/files/{name}", map[string]string{"name": "report"}},
		{"GET", "/files/latest", "/files/{name}", map[string]string{"name": "latest"}},
		{"GET", "/files/latest/7", "/files/latest/{version}", map[string]string{"version": "7"}},
		{"GET", "/files/report/7", "/files/{name}/{version}", map[string]string{"name": "report", "version": "7"}},
		{"GET", "/files/a%20b", "/files/{name}", map[string]string{"name": "a b"}},
		{"GET", "/files/", "", nil},
		{"GET", "/files//7", "", nil},
		{"HEAD", "/api/v1/status", "/status", nil},
	} {
		var caps captures
		e, op := d.find(c.method, c.path, &caps)
		got := ""
		if e != nil && op != nil {
			got = e.template
		}
		if got != c.template {
			t.Errorf("%s %s matched %q, want %q", c.method, c.path, got, c.template)
			continue
		}
		if c.params == nil {
			c.params = map[string]string{}
		}
		if got != "" && !maps.Equal(caps.pathParams(), c.params) {
			t.Errorf("%s %s captured %v, want %v", c.method, c.path, caps.pathParams(), c.params)
		}
	}
}

// TestBasePaths pins how servers[].url becomes base paths.
func TestBasePaths(t *testing.T) {
	t.Parallel()
	d, err := loadDocument("testdata/specs/servers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var all [][]string
	for _, m := range d.matchers {
		all = append(all, m.bases)
	}
	want := [][]string{{"/api/v1", "/api/v2", ""}, {"/old"}}
	if !slices.EqualFunc(all, want, slices.Equal) {
		t.Errorf("base paths %q, want %q", all, want)
	}
}

// TestSplitTemplateErrors pins the path templates the matcher refuses.
func TestSplitTemplateErrors(t *testing.T) {
	t.Parallel()
	for _, tpl := range []string{"orders", "/orders/{id", "/orders/{}", "/files/{name}{ext}"} {
		if _, err := splitTemplate(tpl); err == nil {
			t.Errorf("splitTemplate(%q) accepted it", tpl)
		}
	}
	var m matcher
	if err := m.add(&pathEntry{template: "/a/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}/{q}/{r}"}); err == nil {
		t.Error("a template with 17 parameters was accepted")
	}
}

// TestFindAllocations pins that matching allocates nothing.
func TestFindAllocations(t *testing.T) {
	d, err := loadDocument("testdata/specs/servers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		var caps captures
		if e, _ := d.find("GET", "/api/v2/status", &caps); e == nil {
			t.Fatal("no match")
		}
		if e, _ := d.find("GET", "/files/report/7", &caps); e == nil {
			t.Fatal("no match")
		}
	})
	if allocs != 0 {
		t.Errorf("find allocates %v times per call", allocs)
	}
}

// FuzzFind matches arbitrary paths: no panic, and every captured
// parameter is a non-empty piece of one segment of the path.
func FuzzFind(f *testing.F) {
	d, err := loadDocument("testdata/specs/servers.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"/api/v2/status", "/files/a.tar.gz", "/files/x/1", "/old/legacy/ping", "/", "", "//", "/files/.", "/files/a.b.c.d"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		var c captures
		e, _ := d.find("GET", path, &c)
		if e == nil {
			return
		}
		for i := 0; i < c.n; i++ {
			v := c.values[i]
			if v == "" || strings.Contains(v, "/") || !strings.Contains(path, v) {
				t.Fatalf("%q matched %s with %s = %q", path, e.template, c.names[i], v)
			}
		}
	})
}
