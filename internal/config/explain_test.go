package config

import (
	"strings"
	"testing"
)

// fullExplain is the explain block of testdata/full.yaml.
func fullExplain(want *Config) {
	want.Explain = Explain{
		DecisionTokens: DecisionTokens{Enabled: ptr(true), Keys: []TokenKeyRef{{ID: "k2", Secret: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}},
		KeepInputs:     ptr(false),
	}
}

func TestDecisionTokenKeysLoad(t *testing.T) {
	t.Parallel()
	const doc = `version: 1
routes: [{name: r, paths: ["/"], upstream: u}]
upstreams: [{name: u, targets: [{url: "http://10.0.0.5:8080"}]}]
explain:
  decision_tokens:
    keys:
      - {id: k2, secret: "${K2}"}
      - {id: k1, secret: "${K1}"}
`
	const k2 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	const k1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"K2": k2, "K1": k1}[name]
		return v, ok
	}
	c, err := Load("tokens.yaml", []byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	keys := c.Explain.DecisionTokens.Keys
	if len(keys) != 2 || keys[0].ID != "k2" || keys[0].Secret != k2 || keys[1].Secret != k1 {
		t.Errorf("keys = %+v", keys)
	}
	if !c.Explain.DecisionTokens.IsEnabled() {
		t.Error("decision tokens are on by default")
	}

	off, err := Load("off.yaml", []byte(strings.Replace(doc, "decision_tokens:\n", "decision_tokens:\n    enabled: false\n", 1)), env)
	if err != nil {
		t.Fatal(err)
	}
	if off.Explain.DecisionTokens.IsEnabled() {
		t.Error("enabled: false is ignored")
	}
}
