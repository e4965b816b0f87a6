package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load decodes one YAML configuration document strictly, expands ${ENV}
// references with lookupEnv (os.LookupEnv in production; nil means no
// variable is set), validates it and applies the defaults.
//
// filename only labels error positions. On failure Load returns a nil
// config and an Errors value listing every problem with its line, column
// and field path; it never stops at the first one.
func Load(filename string, doc []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	r := &report{file: filename}
	root := parseDocument(doc, r)
	if len(r.errs) > 0 {
		return nil, sortErrors(r.errs)
	}
	d := newDecoder(r, lookupEnv)
	var c Config
	if root != nil {
		d.decode(root, reflect.ValueOf(&c).Elem(), "")
	}
	validate(&c, d)
	if len(r.errs) > 0 {
		return nil, sortErrors(r.errs)
	}
	c.applyDefaults(d.explicit)
	c.positions = d.nodes
	return &c, nil
}

// Errorf builds an error at the field path of a loaded config, with the
// line and column where Load found that field (or its nearest written
// ancestor). The gateway uses it for problems only a compile finds, such
// as a CEL policy that does not type-check.
func (c *Config) Errorf(path, format string, args ...any) Error {
	e := Error{Path: path, Message: fmt.Sprintf(format, args...), Line: 1, Column: 1}
	if c == nil || c.positions == nil {
		return e
	}
	for p := path; ; {
		if at, ok := c.positions[p]; ok {
			e.Line, e.Column = at.line, at.col
			return e
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return e
		}
		p = p[:i]
	}
}

// parseDocument parses doc into a node tree and returns its root node, or
// nil for an empty document. It refuses streams of several documents.
func parseDocument(doc []byte, r *report) (root *yaml.Node) {
	defer func() {
		// The YAML library panics on a few malformed inputs instead of
		// returning an error; a config file must never crash the gateway.
		if p := recover(); p != nil {
			r.add(pos{1, 1}, "", "the YAML parser could not read this document; check its syntax")
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if !errors.Is(err, io.EOF) {
			addSyntaxError(r, err)
		}
		return nil
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addSyntaxError(r, err)
	default:
		r.add(pos{second.Line, second.Column}, "",
			`a second YAML document ("---") is not allowed; keep one configuration per file`)
	}
	if first.Kind == yaml.DocumentNode && len(first.Content) > 0 {
		return first.Content[0]
	}
	return nil
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): `)

// addSyntaxError turns a YAML library error ("yaml: line 3: ...") into an
// Error at that line.
func addSyntaxError(r *report, err error) {
	msg := err.Error()
	at := pos{1, 1}
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			at.line = n
		}
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	r.add(at, "", "YAML syntax error: "+msg)
}

// decoder walks a YAML node tree against the Config struct by reflection.
type decoder struct {
	*report
	env func(string) (string, bool)
	// nodes maps every decoded field path to its node position; validation
	// uses it to point at the offending value.
	nodes map[string]pos
	// secret maps paths whose value came from the environment to the text
	// written in the file ("${DB_URL}"), which is what messages show.
	secret map[string]string
	// broken holds paths that failed to decode, so that validation does
	// not report the resulting zero value a second time.
	broken map[string]bool
	// null holds paths written as null ("~" or nothing), which count as
	// not written.
	null map[string]bool
}

func newDecoder(r *report, env func(string) (string, bool)) *decoder {
	return &decoder{report: r, env: env, nodes: make(map[string]pos, 256), secret: map[string]string{}, broken: map[string]bool{}, null: map[string]bool{}}
}

// fail records a decoding error at n.
func (d *decoder) fail(n *yaml.Node, path, msg string) {
	d.broken[path] = true
	d.add(pos{n.Line, n.Column}, path, msg)
}

// explicit reports whether path was written in the document with a
// non-null value.
func (d *decoder) explicit(path string) bool {
	_, ok := d.nodes[path]
	return ok && !d.null[path]
}

// at returns the position of path, or of its nearest ancestor that was
// written in the document (for a missing required field: the mapping that
// should hold it).
func (d *decoder) at(path string) pos {
	for {
		if p, ok := d.nodes[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return pos{1, 1}
		}
		path = path[:i]
	}
}

// isBroken reports whether path or one of its ancestors failed to decode.
func (d *decoder) isBroken(path string) bool {
	for {
		if d.broken[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return d.broken[""]
		}
		path = path[:i]
	}
}

// show quotes the value at path for a message; a value that came from the
// environment is shown as written in the file, never expanded.
func (d *decoder) show(path, value string) string {
	if raw, ok := d.secret[path]; ok {
		return strconv.Quote(raw)
	}
	return strconv.Quote(value)
}

// join builds a child field path.
func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// index builds a list element path.
func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// mapKey builds a map entry path: "add.X-Env", or add["odd key"] when the
// key is not a plain name.
func mapKey(parent, key string) string {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return parent + "[" + strconv.Quote(key) + "]"
		}
	}
	if key == "" {
		return parent + `[""]`
	}
	return join(parent, key)
}
