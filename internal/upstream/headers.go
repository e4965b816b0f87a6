package upstream

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// HeaderOps are compiled header edits (a route's headers.request or
// headers.response), applied in the order remove, set, add. The zero value
// changes nothing. Build it once per config snapshot with CompileHeaderOps.
type HeaderOps struct {
	remove []string
	set    []headerValue
	add    []headerValue
}

type headerValue struct{ name, value string }

// CompileHeaderOps canonicalizes the header names of c and orders its set
// and add entries by name, so that Apply does the same thing on every
// request. Names are not validated here; config validation uses
// ValidateHeaderOps.
func CompileHeaderOps(c config.HeaderOps) HeaderOps {
	var h HeaderOps
	for _, name := range c.Remove {
		h.remove = append(h.remove, http.CanonicalHeaderKey(name))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Set)) {
		h.set = append(h.set, headerValue{http.CanonicalHeaderKey(name), c.Set[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Add)) {
		h.add = append(h.add, headerValue{http.CanonicalHeaderKey(name), c.Add[name]})
	}
	return h
}

// WithRemoved returns h that also removes names (canonical) before its
// own edits.
func (h HeaderOps) WithRemoved(names []string) HeaderOps {
	out := h
	out.remove = append(append([]string(nil), names...), h.remove...)
	return out
}

// Empty reports whether h changes nothing.
func (h HeaderOps) Empty() bool { return len(h.remove)+len(h.set)+len(h.add) == 0 }

// Apply edits hdr: removes, then sets (replacing every value), then adds.
func (h HeaderOps) Apply(hdr http.Header) {
	for _, name := range h.remove {
		delete(hdr, name)
	}
	for _, kv := range h.set {
		hdr[kv.name] = []string{kv.value}
	}
	for _, kv := range h.add {
		hdr[kv.name] = append(hdr[kv.name], kv.value)
	}
}

// ValidateHeaderOps reports header names that are not HTTP tokens and values
// that contain control characters (CR, LF, NUL), which the transport would
// refuse on every request.
func ValidateHeaderOps(c config.HeaderOps) error {
	var errs []error
	for _, name := range c.Remove {
		if !validHeaderName(name) {
			errs = append(errs, fmt.Errorf("remove: invalid header name %q", name))
		}
	}
	for _, part := range []struct {
		kind string
		m    map[string]string
	}{{"set", c.Set}, {"add", c.Add}} {
		kind, m := part.kind, part.m
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if !validHeaderName(name) {
				errs = append(errs, fmt.Errorf("%s: invalid header name %q", kind, name))
			}
			if strings.ContainsAny(m[name], "\r\n\x00") {
				errs = append(errs, fmt.Errorf("%s: header %s: value contains a control character", kind, name))
			}
		}
	}
	return errors.Join(errs...)
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
