package cors

import (
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  config.CORS
		want string // "path: message fragment"
	}{
		{"no origins", config.CORS{}, "allow_origins: required"},
		{"star with credentials", config.CORS{AllowOrigins: []string{"https://a.test", "*"}, AllowCredentials: true}, "allow_origins[1]: \"*\" cannot be combined with allow_credentials"},
		{"path", config.CORS{AllowOrigins: []string{"https://a.test/app"}}, "allow_origins[0]: origin \"https://a.test/app\": an origin has no path"},
		{"trailing slash", config.CORS{AllowOrigins: []string{"https://a.test/"}}, "drop the trailing slash"},
		{"no scheme", config.CORS{AllowOrigins: []string{"a.test"}}, "allow_origins[0]: origin \"a.test\": want"},
		{"default port", config.CORS{AllowOrigins: []string{"https://a.test:443"}}, "browsers omit the default port"},
		{"bad port", config.CORS{AllowOrigins: []string{"https://a.test:99999"}}, "not a number from 1 to 65535"},
		{"empty port", config.CORS{AllowOrigins: []string{"https://a.test:"}}, "not a number"},
		{"inner wildcard", config.CORS{AllowOrigins: []string{"https://a.*.test"}}, "whole leading labels"},
		{"bare wildcard host", config.CORS{AllowOrigins: []string{"https://*"}}, "whole leading labels"},
		{"top-level pattern", config.CORS{AllowOrigins: []string{"https://*.com"}}, "top-level domain"},
		{"user info", config.CORS{AllowOrigins: []string{"https://u@a.test"}}, "user info"},
		{"bad host", config.CORS{AllowOrigins: []string{"https://a b.test"}}, "not a host name"},
		{"method", config.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "GET POST"}}, "allow_methods[1]:"},
		{"method star", config.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}}, "allow_methods[0]:"},
		{"header", config.CORS{AllowOrigins: []string{"*"}, AllowHeaders: []string{"X-Ok", "X Bad"}}, "allow_headers[1]:"},
		{"expose", config.CORS{AllowOrigins: []string{"*"}, ExposeHeaders: []string{"a:b"}}, "expose_headers[0]:"},
		{"expose star with credentials", config.CORS{AllowOrigins: []string{"https://a.test"}, ExposeHeaders: []string{"*"}, AllowCredentials: true}, "expose_headers[0]:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(&c.cfg, nil, "")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New = %v, %v; want error containing %q", s, err, c.want)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	t.Parallel()
	for _, origins := range [][]string{
		{"*"}, {"null"}, {"https://app.example.com"}, {"HTTPS://App.Example.com"},
		{"https://*.example.com:8443"}, {"http://[::1]:3000"}, {"http://127.0.0.1:8080"},
		{"https://*.localhost"}, {"app://desktop"},
	} {
		if _, err := New(&config.CORS{AllowOrigins: origins, ExposeHeaders: []string{"*"}}, nil, ""); err != nil {
			t.Errorf("New(%q): %v", origins, err)
		}
	}
	if s, err := New(nil, nil, ""); s != nil || err != nil {
		t.Errorf("New(nil) = %v, %v; want nil, nil", s, err)
	}
}
