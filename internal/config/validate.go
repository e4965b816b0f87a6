package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// validator checks a decoded document and reports each problem at the
// position of the offending field.
type validator struct {
	d *decoder
}

// validate checks c as decoded by d. Methods are upper-cased in place.
func validate(c *Config, d *decoder) {
	v := &validator{d: d}
	switch {
	case d.isBroken("version"):
	case c.Version == 0:
		v.fail("version", "required: set version: 1")
	case c.Version != 1:
		v.fail("version", "unsupported version "+strconv.Itoa(c.Version)+"; the only version is 1")
	}
	v.gateway(&c.Gateway)
	v.listeners(c.Listeners)
	upstreams := v.upstreams(c.Upstreams)
	v.routes(c.Routes, upstreams)
	v.access(c)
	v.protect(c)
	v.observe(c)
	v.ai(c)
}

// fail reports msg at path, unless path already failed to decode (its zero
// value would only repeat that error).
func (v *validator) fail(path, msg string) {
	if v.d.isBroken(path) {
		return
	}
	v.d.add(v.d.at(path), path, msg)
}

// failValue reports msg, which quotes value, at path. When the value came
// from the environment the message shows the reference instead.
func (v *validator) failValue(path, value, msg string) {
	if raw, ok := v.d.secret[path]; ok {
		msg = strings.ReplaceAll(msg, strconv.Quote(value), strconv.Quote(raw))
		if value != "" && strings.Contains(msg, value) {
			msg = "the value of " + strconv.Quote(raw) + " is invalid"
		}
	}
	v.fail(path, msg)
}

// display returns the value at path for a message about another field:
// the reference as written when the value came from the environment.
func (v *validator) display(path, value string) string {
	if raw, ok := v.d.secret[path]; ok {
		return raw
	}
	return value
}

// required reports a missing value.
func (v *validator) required(path, hint string) {
	v.fail(path, "required: "+hint)
}

// unique checks an object's name: present and not used before. seen maps
// names to the path of their first use.
func (v *validator) unique(path, name, what string, seen map[string]string) bool {
	namePath := join(path, "name")
	if name == "" {
		v.required(namePath, "every "+what+" needs a unique name")
		return false
	}
	if first, dup := seen[name]; dup {
		v.failValue(namePath, name, fmt.Sprintf("duplicate %s name %q (first defined at line %d)",
			what, name, v.d.at(first).line))
		return false
	}
	seen[name] = namePath
	return true
}

// notNegative refuses negative counts; sentinel, when not 0, is the one
// negative value allowed (documented -1 "disabled" values).
func (v *validator) notNegative(path string, n, sentinel int) {
	switch {
	case n >= 0 || sentinel != 0 && n == sentinel:
	case sentinel != 0:
		v.fail(path, fmt.Sprintf("must be %d (disabled), 0 (default) or more, got %d", sentinel, n))
	default:
		v.fail(path, "must not be negative, got "+strconv.Itoa(n))
	}
}

func (v *validator) gateway(g *Gateway) {
	switch g.Disclosure {
	case "", "minimal", "standard", "debug":
	default:
		v.failValue("gateway.disclosure", g.Disclosure,
			fmt.Sprintf(`invalid disclosure %q: use "minimal", "standard" or "debug"`, g.Disclosure))
	}
	switch g.ForwardedHeader {
	case "", "X-Forwarded-For", "Forwarded", "auto":
	default:
		v.failValue("gateway.forwarded_header", g.ForwardedHeader,
			fmt.Sprintf(`invalid forwarded_header %q: use "X-Forwarded-For", "Forwarded" or "auto"`, g.ForwardedHeader))
	}
	if g.RequestIDHeader != "" {
		v.headerName("gateway.request_id_header", g.RequestIDHeader)
	}
	for i, p := range g.TrustedProxies {
		path := index("gateway.trusted_proxies", i)
		var err error
		if strings.Contains(p, "/") {
			_, err = netip.ParsePrefix(p)
		} else {
			_, err = netip.ParseAddr(p)
		}
		if err != nil {
			v.failValue(path, p, fmt.Sprintf(`invalid CIDR or IP address %q (examples: "10.0.0.0/8", "192.168.1.7")`, p))
		}
	}
	v.limits("gateway.limits", g.Limits)
	v.notNegative("gateway.call_log.max_rows", g.CallLog.MaxRows, 0)
	v.notNegative("gateway.call_log.buffer_size", g.CallLog.BufferSize, 0)
}

func (v *validator) limits(path string, l Limits) {
	v.notNegative(join(path, "max_header_count"), l.MaxHeaderCount, 0)
	v.notNegative(join(path, "max_json_depth"), l.MaxJSONDepth, 0)
	if l.MaxJSONFieldBytes < 0 {
		v.fail(join(path, "max_json_field_bytes"), "must not be negative")
	}
}

func (v *validator) listeners(ls []Listener) {
	seen := map[string]string{}
	proxies, firstAdmin, kindsKnown := 0, "", true
	for i := range ls {
		l := &ls[i]
		path := index("listeners", i)
		v.unique(path, l.Name, "listener", seen)
		kindPath := join(path, "kind")
		switch l.Kind {
		case "proxy":
			proxies++
		case "admin":
			if firstAdmin != "" {
				v.fail(kindPath, fmt.Sprintf("only one admin listener is allowed (the first is at line %d)", v.d.at(firstAdmin).line))
			} else {
				firstAdmin = kindPath
			}
		case "":
			kindsKnown = false
			v.required(kindPath, `"proxy" or "admin"`)
		default:
			kindsKnown = false
			v.failValue(kindPath, l.Kind, fmt.Sprintf(`invalid kind %q: use "proxy" or "admin"`, l.Kind))
		}
		v.address(path, l)
		if l.TLS != nil {
			tlsPath := join(path, "tls")
			if l.TLS.CertFile == "" {
				v.required(join(tlsPath, "cert_file"), "the PEM certificate chain file")
			}
			if l.TLS.KeyFile == "" {
				v.required(join(tlsPath, "key_file"), "the PEM private key file")
			}
		}
	}
	if len(ls) > 0 && proxies == 0 && kindsKnown && !v.d.isBroken("listeners") {
		v.fail("listeners", "at least one listener of kind proxy is required")
	}
}

// address checks a listener's host:port and keeps the admin API on loopback.
func (v *validator) address(path string, l *Listener) {
	addrPath := join(path, "address")
	if l.Address == "" {
		v.required(addrPath, `host:port, e.g. ":8080" or "127.0.0.1:9901"`)
		return
	}
	host, port, err := net.SplitHostPort(l.Address)
	if err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 0 || n > 65535 {
			err = fmt.Errorf("bad port")
		}
	}
	if err != nil {
		v.failValue(addrPath, l.Address, fmt.Sprintf(`invalid address %q: want host:port, e.g. ":8080" or "127.0.0.1:9901"`, l.Address))
		return
	}
	if l.Kind == "admin" && !l.AllowRemoteAdmin && !isLoopback(host) {
		v.failValue(addrPath, l.Address, fmt.Sprintf("the admin listener must listen on loopback (127.0.0.1, ::1 or localhost), got %q; "+
			"set allow_remote_admin: true to expose the admin API", l.Address))
	}
}

// isLoopback reports whether a listen host only accepts local connections.
// An empty host listens on every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// headerName checks that name, the value at path, is a valid HTTP field
// name (an RFC 9110 token).
func (v *validator) headerName(path, name string) {
	if !isToken(name) {
		v.failValue(path, name, headerNameMessage(name))
	}
}

// headerKey checks a header name written as a mapping key; keys are never
// interpolated, so the name is shown as written.
func (v *validator) headerKey(path, name string) {
	if !isToken(name) {
		v.fail(path, headerNameMessage(name))
	}
}

func headerNameMessage(name string) string {
	return fmt.Sprintf("invalid header name %q (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
