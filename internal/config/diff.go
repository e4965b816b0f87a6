package config

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
)

// Change is one difference between two revisions.
type Change struct {
	// Kind is "added", "removed" or "changed".
	Kind string `json:"kind"`
	// Object is "gateway", a top-level section ("waf", "redis", "explain",
	// "analytics", "alerts", "telemetry", "redact", "ai"), or a named object:
	// "listener", "upstream", "route", "authenticator", "policy", "tenant"
	// or "consumer".
	Object string `json:"object"`
	// Name is the object's name; empty for the gateway section.
	Name string `json:"name,omitempty"`
	// Fields lists the changed field paths of a "changed" object, e.g.
	// "paths", "timeout", "targets[0].weight", "health_check.active.interval".
	// A changed list of strings names what was added and removed:
	// "api_keys[0].scopes (-orders:write)", "paths (+/v2/users)", except
	// for fields that may hold secrets.
	Fields []string `json:"fields,omitempty"`
}

// Change kinds.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// objectOrder sorts changes the way a reader follows a config: gateway
// settings, then what listens, what serves, and what routes.
var objectOrder = map[string]int{
	"gateway": 0, "waf": 1, "redis": 1, "explain": 1, "analytics": 1, "alerts": 1, "telemetry": 1, "redact": 1, "ai": 1,
	"listener": 2, "upstream": 3, "route": 4, "authenticator": 5, "policy": 6, "tenant": 7, "consumer": 8,
}

// Diff compares two decoded revisions (normally both from Load, so defaults
// are applied on both sides). old may be nil: everything in next is added.
// Objects are matched by name; the result is sorted by object type, then name.
func Diff(old, next *Config) []Change {
	if next == nil {
		next = &Config{}
	}
	var out []Change
	if old == nil {
		old = &Config{}
		out = append(out, Change{Kind: Added, Object: "gateway"})
	} else {
		for _, sec := range []struct {
			object    string
			old, next any
		}{
			{"gateway", old.Gateway, next.Gateway}, {"waf", old.WAF, next.WAF}, {"redis", old.Redis, next.Redis},
			{"explain", old.Explain, next.Explain}, {"analytics", old.Analytics, next.Analytics},
			{"alerts", old.Alerts, next.Alerts}, {"telemetry", old.Telemetry, next.Telemetry},
			{"redact", old.Redact, next.Redact}, {"ai", old.AI, next.AI},
		} {
			a, b := reflect.ValueOf(sec.old), reflect.ValueOf(sec.next)
			if a.Kind() == reflect.Pointer && a.IsNil() != b.IsNil() {
				kind := Added
				if b.IsNil() {
					kind = Removed
				}
				out = append(out, Change{Kind: kind, Object: sec.object})
				continue
			}
			if fields := diffFields(a, b); fields != nil {
				out = append(out, Change{Kind: Changed, Object: sec.object, Fields: fields})
			}
		}
	}
	out = diffNamed(out, "listener", old.Listeners, next.Listeners, func(l Listener) string { return l.Name })
	out = diffNamed(out, "upstream", old.Upstreams, next.Upstreams, func(u Upstream) string { return u.Name })
	out = diffNamed(out, "route", old.Routes, next.Routes, func(r Route) string { return r.Name })
	out = diffNamed(out, "authenticator", old.Authenticators, next.Authenticators, func(a Authenticator) string { return a.Name })
	out = diffNamed(out, "policy", old.Policies, next.Policies, func(p Policy) string { return p.Name })
	out = diffNamed(out, "tenant", old.Tenants, next.Tenants, func(t Tenant) string { return t.ID })
	out = diffNamed(out, "consumer", old.Consumers, next.Consumers, func(c Consumer) string { return c.ID })
	slices.SortStableFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(objectOrder[a.Object], objectOrder[b.Object]), strings.Compare(a.Name, b.Name))
	})
	return out
}

// diffNamed matches two lists of objects by name.
func diffNamed[T any](out []Change, object string, old, next []T, name func(T) string) []Change {
	before := make(map[string]T, len(old))
	for _, o := range old {
		if _, dup := before[name(o)]; !dup {
			before[name(o)] = o
		}
	}
	after := make(map[string]bool, len(next))
	for _, n := range next {
		key := name(n)
		if after[key] {
			continue
		}
		after[key] = true
		o, existed := before[key]
		if !existed {
			out = append(out, Change{Kind: Added, Object: object, Name: key})
			continue
		}
		if fields := diffFields(reflect.ValueOf(o), reflect.ValueOf(n)); fields != nil {
			out = append(out, Change{Kind: Changed, Object: object, Name: key, Fields: fields})
		}
	}
	for key := range before {
		if !after[key] {
			out = append(out, Change{Kind: Removed, Object: object, Name: key})
		}
	}
	return out
}

// diffFields lists the YAML paths of the fields that differ between two
// values of the same struct type.
func diffFields(a, b reflect.Value) []string {
	var fields []string
	diffValue("", a, b, &fields)
	return fields
}

func diffValue(path string, a, b reflect.Value, out *[]string) {
	switch a.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOf(a.Type()) {
			diffValue(join(path, f.key), a.Field(f.index), b.Field(f.index), out)
		}
	case reflect.Pointer:
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil() || b.IsNil():
			*out = append(*out, path)
		default:
			diffValue(path, a.Elem(), b.Elem(), out)
		}
	case reflect.Slice:
		switch {
		case a.Len() == 0 && b.Len() == 0:
		case a.Len() == b.Len() && a.Type().Elem().Kind() == reflect.Struct:
			// Lists of objects (targets) report the element that changed.
			for i := range a.Len() {
				diffValue(index(path, i), a.Index(i), b.Index(i), out)
			}
		case !reflect.DeepEqual(a.Interface(), b.Interface()):
			*out = append(*out, path+stringsDelta(path, a, b))
		}
	case reflect.Map:
		if (a.Len() != 0 || b.Len() != 0) && !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
	default:
		if !a.Equal(b) {
			*out = append(*out, path)
		}
	}
}

// stringsDelta describes how a list of strings changed: " (+a, -b)", or
// "" for other lists, reorderings, and fields that may hold secrets.
func stringsDelta(path string, a, b reflect.Value) string {
	if a.Type().Elem().Kind() != reflect.String {
		return ""
	}
	leaf := strings.ToLower(path[strings.LastIndexByte(path, '.')+1:])
	for _, secret := range []string{"secret", "key", "password", "token", "hash", "directive", "header"} {
		if strings.Contains(leaf, secret) {
			return ""
		}
	}
	as, bs := make(map[string]bool, a.Len()), make(map[string]bool, b.Len())
	for i := range a.Len() {
		as[a.Index(i).String()] = true
	}
	for i := range b.Len() {
		bs[b.Index(i).String()] = true
	}
	var parts []string
	for i := range b.Len() {
		if v := b.Index(i).String(); !as[v] {
			parts = append(parts, "+"+v)
			as[v] = true
		}
	}
	for i := range a.Len() {
		if v := a.Index(i).String(); !bs[v] {
			parts = append(parts, "-"+v)
			bs[v] = true
		}
	}
	if len(parts) == 0 || len(parts) > 8 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// Summary renders changes one per line, e.g.
//
//	~ gateway: trusted_proxies (+192.168.0.0/16)
//	+ route orders
//	- upstream legacy
//	~ route users: paths, timeout
//
// and "no changes" when there are none.
func Summary(changes []Change) string {
	if len(changes) == 0 {
		return "no changes"
	}
	var b strings.Builder
	for i, c := range changes {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch c.Kind {
		case Added:
			b.WriteString("+ ")
		case Removed:
			b.WriteString("- ")
		default:
			b.WriteString("~ ")
		}
		b.WriteString(c.Object)
		if c.Name != "" {
			b.WriteByte(' ')
			b.WriteString(c.Name)
		}
		if len(c.Fields) > 0 {
			b.WriteString(": ")
			b.WriteString(strings.Join(c.Fields, ", "))
		}
	}
	return b.String()
}

// Hash returns the hex SHA-256 of a document, which identifies a revision's
// exact text (an unchanged file hashes the same).
func Hash(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}
