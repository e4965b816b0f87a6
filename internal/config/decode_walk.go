package config

import (
	"encoding"
	"reflect"
	"strconv"
	"sync"

	"go.yaml.in/yaml/v3"
)

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// decode stores node n into v, recording every problem instead of stopping.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		d.fail(n, path, "YAML aliases (*"+n.Value+") are not allowed, so that a small file cannot expand "+
			"into a huge configuration; repeat the value instead")
		return
	}
	if n.Style&yaml.TaggedStyle != 0 && !supportedTags[n.Tag] {
		d.fail(n, path, "YAML tag "+n.Tag+" is not supported")
		return
	}
	if isNull(n) {
		d.null[path] = true
		return
	}
	t := v.Type()
	if t == jsonType {
		d.json(n, v, path)
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		d.text(n, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		ptr := reflect.New(t.Elem())
		d.decode(n, ptr.Elem(), path)
		v.Set(ptr)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

var supportedTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true, "!!map": true, "!!seq": true,
}

// isNull reports whether n is an explicit or implicit null ("", "~", "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// field is one settable struct field and its YAML key.
type field struct {
	key   string
	index int
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the fields of a struct type by their yaml tag.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		key := sf.Tag.Get("yaml")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		fs = append(fs, field{key: key, index: i})
	}
	fieldCache.Store(t, fs)
	return fs
}

// structure decodes a mapping into a struct, refusing unknown and duplicate keys.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected "+describeType(v.Type())+", got "+describeNode(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		fi := -1
		for _, f := range fields {
			if f.key == key {
				fi = f.index
				break
			}
		}
		if fi < 0 {
			msg := "unknown field " + strconv.Quote(key)
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.key
			}
			if s, ok := closest(key, names); ok {
				msg += " (did you mean " + strconv.Quote(s) + "?)"
			}
			d.fail(k, mapKey(path, key), msg)
			continue
		}
		d.decode(val, v.Field(fi), join(path, key))
	}
}

// key checks one mapping key: a plain scalar, not a merge key, not seen before.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	switch {
	case k.Kind == yaml.AliasNode:
		d.fail(k, path, "YAML aliases (*"+k.Value+") are not allowed")
		return "", false
	case k.Kind != yaml.ScalarNode:
		d.fail(k, path, "mapping keys must be plain names, got "+describeNode(k))
		return "", false
	case k.Value == "<<" && k.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0:
		d.fail(k, path, `YAML merge keys ("<<") are not supported; repeat the fields instead`)
		return "", false
	}
	if line, dup := seen[k.Value]; dup {
		d.fail(k, mapKey(path, k.Value), "duplicate key "+strconv.Quote(k.Value)+" (first at line "+strconv.Itoa(line)+")")
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

// sequence decodes a YAML sequence into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected "+describeType(v.Type())+", got "+describeNode(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), index(path, i))
	}
	v.Set(s)
}

// mapping decodes a YAML mapping into a map with string keys. Keys are
// never interpolated.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if n.Kind != yaml.MappingNode || t.Key().Kind() != reflect.String {
		d.fail(n, path, "expected "+describeType(t)+", got "+describeNode(n))
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		epath := mapKey(path, key)
		elem := reflect.New(t.Elem()).Elem()
		d.decode(val, elem, epath)
		// Entries are validated by their key (a header name), so point there.
		d.nodes[epath] = pos{k.Line, k.Column}
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	}
	v.Set(m)
}
