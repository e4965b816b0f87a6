package pricing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The data file (prices.yaml) is a mapping with two keys:
//
//	as_of: "2026-06-01"         # when the prices were read from the providers
//	models:                     # a list of Override entries, plus source
//	  - provider: openai
//	    model: gpt-4o
//	    aliases: [gpt-4o-2024-08-06, gpt-4o-2024-11-20]
//	    input: "2.50"
//	    cached_input: "1.25"
//	    output: "10.00"
//	    source: https://platform.openai.com/docs/pricing
//
// It is decoded strictly by the walker below (unknown keys, duplicate keys
// and malformed prices are errors naming the line and field), which is also
// what ParseOverrides uses.

type dataDoc struct {
	asOf   string
	models []dataModel
}

type dataModel struct {
	Override
	source string
}

// ParseOverrides decodes a YAML list of overrides strictly, for tools and
// tests that hold overrides outside Pinpoint's config file (the config
// loader decodes the same fields itself). Errors name the line and field.
func ParseOverrides(doc []byte) ([]Override, error) {
	root, err := parseRoot(doc)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, nil
	}
	ms, err := decodeModels(root, "", false)
	if err != nil {
		return nil, err
	}
	out := make([]Override, len(ms))
	for i, m := range ms {
		out[i] = m.Override
	}
	return out, nil
}

func parseRoot(doc []byte) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 || len(n.Content) == 0 {
		return nil, nil
	}
	return n.Content[0], nil
}

func parseData(doc []byte, name string) (dataDoc, error) {
	root, err := parseRoot(doc)
	if err != nil {
		return dataDoc{}, fmt.Errorf("%s: %w", name, err)
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return dataDoc{}, fmt.Errorf("%s: expected a mapping with as_of and models", name)
	}
	var d dataDoc
	var seenModels bool
	err = eachField(root, "", []string{"as_of", "models"}, func(key string, v *yaml.Node, path string) error {
		switch key {
		case "as_of":
			s, err := scalar(v, path)
			if err != nil {
				return err
			}
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return at(v, path, "must be a date YYYY-MM-DD")
			}
			d.asOf = s
		case "models":
			ms, err := decodeModels(v, "models", true)
			if err != nil {
				return err
			}
			d.models, seenModels = ms, true
		}
		return nil
	})
	if err == nil && (d.asOf == "" || !seenModels) {
		err = errors.New("as_of and models are required")
	}
	if err != nil {
		return dataDoc{}, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

var overrideKeys = []string{"provider", "model", "kind", "aliases", "input", "output",
	"cached_input", "cache_write", "cache_write_1h", "long_context"}

var tierKeys = []string{"above_prompt_tokens", "input", "output", "cached_input", "cache_write", "cache_write_1h"}

func decodeModels(n *yaml.Node, path string, withSource bool) ([]dataModel, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, at(n, path, "expected a list of models")
	}
	keys := overrideKeys
	if withSource {
		keys = append(append([]string(nil), overrideKeys...), "source")
	}
	out := make([]dataModel, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		m := &out[i]
		err := eachField(item, p, keys, func(key string, v *yaml.Node, fp string) error {
			var err error
			switch key {
			case "provider":
				m.Provider, err = scalar(v, fp)
			case "model":
				m.Model, err = scalar(v, fp)
			case "kind":
				var s string
				s, err = scalar(v, fp)
				m.Kind = Kind(s)
			case "source":
				m.source, err = scalar(v, fp)
			case "aliases":
				if v.Kind != yaml.SequenceNode {
					return at(v, fp, "expected a list of model ids")
				}
				for j, a := range v.Content {
					s, err := scalar(a, fp+"["+strconv.Itoa(j)+"]")
					if err != nil {
						return err
					}
					m.Aliases = append(m.Aliases, s)
				}
			case "long_context":
				m.LongContext, err = decodeTier(v, fp)
			default:
				var r *Rate
				r, err = rate(v, fp)
				*overrideRate(&m.Override, key) = r
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeTier(n *yaml.Node, path string) (*TierOverride, error) {
	t := &TierOverride{}
	err := eachField(n, path, tierKeys, func(key string, v *yaml.Node, fp string) error {
		if key == "above_prompt_tokens" {
			s, err := scalar(v, fp)
			if err != nil {
				return err
			}
			t.AbovePromptTokens, err = strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
			if err != nil {
				return at(v, fp, "expected a whole number of tokens")
			}
			return nil
		}
		r, err := rate(v, fp)
		switch key {
		case "input":
			t.Input = r
		case "output":
			t.Output = r
		case "cached_input":
			t.CachedInput = r
		case "cache_write":
			t.CacheWrite = r
		case "cache_write_1h":
			t.CacheWrite1h = r
		}
		return err
	})
	return t, err
}

func overrideRate(o *Override, key string) **Rate {
	switch key {
	case "input":
		return &o.Input
	case "output":
		return &o.Output
	case "cached_input":
		return &o.CachedInput
	case "cache_write":
		return &o.CacheWrite
	}
	return &o.CacheWrite1h
}

// eachField calls fn for every key of mapping n, refusing keys not in known
// and keys given twice.
func eachField(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node, path string) error) error {
	if n.Kind != yaml.MappingNode {
		return at(n, path, "expected a mapping")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fp := k.Value
		if path != "" {
			fp = path + "." + k.Value
		}
		if !contains(known, k.Value) {
			return at(k, fp, "unknown field; known fields are "+strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return at(k, fp, "given twice")
		}
		seen[k.Value] = true
		if err := fn(k.Value, v, fp); err != nil {
			return err
		}
	}
	return nil
}

func scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", at(n, path, "expected a single value")
	}
	return n.Value, nil
}

func rate(n *yaml.Node, path string) (*Rate, error) {
	s, err := scalar(n, path)
	if err != nil {
		return nil, err
	}
	r, err := ParseRate(s)
	if err != nil {
		return nil, at(n, path, err.Error())
	}
	return &r, nil
}

func at(n *yaml.Node, path, msg string) error {
	return fmt.Errorf("line %d: %s: %s", n.Line, path, msg)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
