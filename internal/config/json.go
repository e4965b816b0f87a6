package config

import (
	"encoding/json"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// JSON is a free-form value written in YAML (a JSON Schema, model
// parameters), kept as its compact JSON text. Empty when the field is
// absent. Keys of objects come out sorted.
type JSON string

var jsonType = reflect.TypeFor[JSON]()

// IsSet reports whether the value was given.
func (j JSON) IsSet() bool { return j != "" }

// Bytes returns the JSON text.
func (j JSON) Bytes() []byte { return []byte(j) }

// json stores a YAML value of any shape as JSON text.
func (d *decoder) json(n *yaml.Node, v reflect.Value, path string) {
	var val any
	if err := n.Decode(&val); err != nil {
		d.fail(n, path, "not a JSON-compatible value: "+err.Error())
		return
	}
	b, err := json.Marshal(val)
	if err != nil {
		d.fail(n, path, "not a JSON-compatible value (object keys must be strings): "+err.Error())
		return
	}
	v.SetString(string(b))
}
