package authz

import (
	"reflect"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// mapKind says which part of the request a strMap shows.
type mapKind uint8

const (
	headerMap mapKind = iota // request.headers: lower-cased names, first value
	queryMap                 // request.query: first value of each parameter
	paramMap                 // request.params: the captured path parameters
)

// strMap is a map(string, string) view of the request's headers, query or
// path parameters. Looking up one key (the common case:
// request.headers['x-tenant']) reads the request directly and allocates
// nothing; iterating, comparing or converting the whole map builds a plain
// copy first.
type strMap struct {
	kind mapKind
	act  *activation
}

var _ traits.Mapper = (*strMap)(nil)

// lookup returns the value of key.
func (m *strMap) lookup(key string) (string, bool) {
	x := m.act.x
	switch m.kind {
	case headerMap:
		h := x.Request.Header
		if vs, ok := h[key]; ok && len(vs) > 0 {
			return vs[0], true
		}
		for name, vs := range h {
			if len(vs) > 0 && strings.EqualFold(name, key) {
				return vs[0], true
			}
		}
	case queryMap:
		if vs := m.act.queryValues()[key]; len(vs) > 0 {
			return vs[0], true
		}
	case paramMap:
		return x.Param(key)
	}
	return "", false
}

// plain builds the whole map.
func (m *strMap) plain() traits.Mapper {
	out := map[string]string{}
	x := m.act.x
	switch m.kind {
	case headerMap:
		for name, vs := range x.Request.Header {
			if len(vs) > 0 {
				k := strings.ToLower(name)
				if _, dup := out[k]; !dup {
					out[k] = vs[0]
				}
			}
		}
	case queryMap:
		for k, vs := range m.act.queryValues() {
			if len(vs) > 0 {
				out[k] = vs[0]
			}
		}
	case paramMap:
		for i := 0; i < x.NParams; i++ {
			out[x.Params[i].Name] = x.Params[i].Value
		}
	}
	return types.NewStringStringMap(m.act.adapter, out)
}

// FindStringKey is the interpreter's fast path for constant keys.
func (m *strMap) FindStringKey(key string) (any, bool) {
	v, ok := m.lookup(key)
	if !ok {
		return nil, false
	}
	return types.String(v), true
}

// Find implements traits.Mapper.
func (m *strMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	v, ok := m.lookup(string(k))
	if !ok {
		return nil, false
	}
	return types.String(v), true
}

// Get implements traits.Indexer.
func (m *strMap) Get(key ref.Val) ref.Val {
	v, found := m.Find(key)
	if !found {
		return types.ValOrErr(v, "no such key: %v", key)
	}
	return v
}

// Contains implements traits.Container.
func (m *strMap) Contains(key ref.Val) ref.Val {
	_, found := m.Find(key)
	return types.Bool(found)
}

// Size implements traits.Sizer.
func (m *strMap) Size() ref.Val { return m.plain().Size() }

// Iterator implements traits.Iterable.
func (m *strMap) Iterator() traits.Iterator { return m.plain().Iterator() }

// ConvertToNative implements ref.Val.
func (m *strMap) ConvertToNative(t reflect.Type) (any, error) { return m.plain().ConvertToNative(t) }

// ConvertToType implements ref.Val.
func (m *strMap) ConvertToType(t ref.Type) ref.Val {
	if t == types.MapType {
		return m
	}
	return m.plain().ConvertToType(t)
}

// Equal implements ref.Val.
func (m *strMap) Equal(other ref.Val) ref.Val { return m.plain().Equal(other) }

// Type implements ref.Val.
func (m *strMap) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (m *strMap) Value() any { return m }
