package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// TestGatewayConfig checks the config crsftw gives the gateway: the YAML
// must carry every directive unchanged (they are full of quotes), and the
// settings the corpus depends on.
func TestGatewayConfig(t *testing.T) {
	t.Parallel()
	text := gatewayConfig("127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:3", "/tmp/x y/waf.log")
	var doc struct {
		Listeners []struct{ Name, Kind, Address string }
		WAF       struct {
			Enabled       bool
			Mode          string
			ParanoiaLevel int      `yaml:"paranoia_level"`
			ErrorLog      string   `yaml:"error_log"`
			Directives    []string `yaml:"directives"`
		} `yaml:"waf"`
		Upstreams []struct {
			Targets []struct{ URL string }
		}
		Routes []struct {
			Paths    []string
			Upstream string
		}
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if len(doc.Listeners) != 2 || doc.Listeners[0].Address != "127.0.0.1:1" || doc.Listeners[1].Kind != "admin" {
		t.Errorf("listeners %+v", doc.Listeners)
	}
	w := doc.WAF
	if !w.Enabled || w.Mode != "report_only" || w.ParanoiaLevel != 4 || w.ErrorLog != "/tmp/x y/waf.log" {
		t.Errorf("waf %+v", w)
	}
	if len(w.Directives) != len(corpusDirectives) {
		t.Fatalf("%d directives, want %d", len(w.Directives), len(corpusDirectives))
	}
	for i, d := range corpusDirectives {
		if w.Directives[i] != d {
			t.Errorf("directive %d:\n got %s\nwant %s", i, w.Directives[i], d)
		}
	}
	if len(doc.Upstreams) != 1 || doc.Upstreams[0].Targets[0].URL != "http://127.0.0.1:3" {
		t.Errorf("upstreams %+v", doc.Upstreams)
	}
	if len(doc.Routes) != 1 || doc.Routes[0].Paths[0] != "/*" || doc.Routes[0].Upstream != "albedo" {
		t.Errorf("routes %+v", doc.Routes)
	}
}

// TestMarkerRuleLogsTheHeaderName pins what go-ftw needs of the marker
// line: the header's name and value, which the rule's message carries
// (the error log redacts [data]).
func TestMarkerRuleLogsTheHeaderName(t *testing.T) {
	t.Parallel()
	marker := corpusDirectives[len(corpusDirectives)-1]
	for _, want := range []string{"REQUEST_HEADERS:X-CRS-Test", "id:999999", ",log,", "msg:'X-CRS-Test %{MATCHED_VAR}'"} {
		if !strings.Contains(marker, want) {
			t.Errorf("marker rule %s lacks %q", marker, want)
		}
	}
}

func TestBackendIsAlbedo(t *testing.T) {
	t.Parallel()
	b, err := startBackend(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Error(err)
		}
	})
	resp, err := http.Get(b.URL() + "/status/200")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /status/200: %d", resp.StatusCode)
	}
	// /reflect is what the corpus's response tests use.
	resp, err = http.Post(b.URL()+"/reflect", "application/json",
		strings.NewReader(`{"status": 202, "body": "reflected"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || string(body) != "reflected" {
		t.Errorf("POST /reflect: %d %q", resp.StatusCode, body)
	}
}
