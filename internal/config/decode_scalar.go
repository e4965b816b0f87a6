package config

import (
	"encoding"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// scalarText returns the interpolated text of a scalar node, whether it was
// written as a string (quoted or tagged !!str, and not interpolated), and
// false when it is not a scalar or interpolation failed (errors recorded).
func (d *decoder) scalarText(n *yaml.Node, v reflect.Value, path string) (text string, quoted, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected "+describeType(v.Type())+", got "+describeNode(n))
		return "", false, false
	}
	text, expanded, problems := interpolate(n.Value, d.env)
	for _, p := range problems {
		d.fail(n, path, p)
	}
	if problems != nil {
		return "", false, false
	}
	if expanded {
		d.secret[path] = n.Value
		return text, false, true
	}
	quoted = n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		n.Style&yaml.TaggedStyle != 0 && n.Tag == "!!str"
	return text, quoted, true
}

// text decodes a scalar through the type's UnmarshalText (Duration, ByteSize).
func (d *decoder) text(n *yaml.Node, v reflect.Value, path string) {
	text, _, ok := d.scalarText(n, v, path)
	if !ok {
		return
	}
	if _, secret := d.secret[path]; secret && text == "" {
		return // an empty variable means "use the default", like an empty value
	}
	u := v.Addr().Interface().(encoding.TextUnmarshaler)
	if err := u.UnmarshalText([]byte(text)); err != nil {
		msg := err.Error()
		if raw, secret := d.secret[path]; secret {
			// Show the reference as written, never the variable's value.
			msg = strings.ReplaceAll(msg, strconv.Quote(text), strconv.Quote(raw))
			if text != "" && strings.Contains(msg, text) {
				msg = "the value of " + strconv.Quote(raw) + " is not " + describeType(v.Type())
			}
		}
		d.fail(n, path, msg)
	}
}

// scalar decodes strings, booleans, integers and floats.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	text, quoted, ok := d.scalarText(n, v, path)
	if !ok {
		return
	}
	kind := v.Kind()
	if kind == reflect.String {
		v.SetString(text)
		return
	}
	if _, secret := d.secret[path]; secret && text == "" {
		return // an empty variable means "use the default"
	}
	got := d.show(path, text)
	if quoted {
		d.fail(n, path, "expected "+describeType(v.Type())+", got the string "+got+" (remove the quotes)")
		return
	}
	switch kind {
	case reflect.Bool:
		switch text {
		case "true", "True", "TRUE":
			v.SetBool(true)
		case "false", "False", "FALSE":
			v.SetBool(false)
		default:
			d.fail(n, path, "expected true or false, got "+got)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := parseInt(text)
		if err != nil || v.OverflowInt(i) {
			d.fail(n, path, "expected an integer, got "+got)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
			d.fail(n, path, "expected a number, got "+got)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, path, "values of type "+v.Type().String()+" cannot be decoded")
	}
}

// parseInt parses a decimal integer, allowing "_" between digits (1_000_000).
func parseInt(s string) (int64, error) {
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, strconv.ErrSyntax
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	return strconv.ParseInt(s, 10, 64)
}

// describeType names what a Go type expects, for messages.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return `a duration (e.g. "30s")`
	case reflect.TypeFor[ByteSize]():
		return `a size (e.g. "10MiB")`
	}
	switch t.Kind() {
	case reflect.Pointer:
		return describeType(t.Elem())
	case reflect.Struct:
		return "a mapping"
	case reflect.Map:
		return "a mapping of names to values"
	case reflect.Slice:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a string"
}

// describeNode names what a node holds, without its value.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	}
	return "a string"
}
