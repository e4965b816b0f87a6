package gemini

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"
)

type embeddingList struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func embedCall(body string) *provider.Call {
	return &provider.Call{Op: provider.Embeddings, Model: "gemini-embedding-001", Body: []byte(body)}
}

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	inputs := []string{"hello world", "the quick brown fox"}
	cases := []struct {
		name, body string
		inputs     []string
		dims       int
		base64     bool
	}{
		{"floats", `{"model":"gemini-embedding-001","input":["hello world","the quick brown fox"]}`, inputs, 0, false},
		{"one string", `{"model":"gemini-embedding-001","input":"hello world","encoding_format":"float"}`, inputs[:1], 0, false},
		{"base64", `{"model":"gemini-embedding-001","input":["hello world","the quick brown fox"],"encoding_format":"base64"}`, inputs, 0, true},
		{"dimensions", `{"model":"gemini-embedding-001","input":["hello world"],"dimensions":16,"encoding_format":"base64"}`, inputs[:1], 16, true},
	}
	f, p := newFake(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, pe := send(t, p, embedCall(tc.body))
			if pe != nil {
				t.Fatal(pe)
			}
			if res.HasUsage {
				t.Error("HasUsage is true: Gemini reports no embedding tokens")
			}
			got := lastRequest(t, f)
			if got.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
				t.Errorf("path = %s", got.Path)
			}
			sent := gjson.ParseBytes(got.Body)
			if n := sent.Get("requests.#").Int(); n != int64(len(tc.inputs)) {
				t.Errorf("%d requests sent: %s", n, got.Body)
			}
			for i, in := range tc.inputs {
				r := sent.Get("requests." + string(rune('0'+i)))
				if r.Get("model").String() != "models/gemini-embedding-001" || r.Get("content.parts.0.text").String() != in {
					t.Errorf("request %d = %s", i, r.Raw)
				}
				if tc.dims > 0 && r.Get("outputDimensionality").Int() != int64(tc.dims) {
					t.Errorf("request %d = %s", i, r.Raw)
				}
			}

			var list embeddingList
			if err := json.Unmarshal(res.Body, &list); err != nil {
				t.Fatalf("%v: %s", err, res.Body)
			}
			if list.Object != "list" || list.Model != "gemini-embedding-001" || len(list.Data) != len(tc.inputs) {
				t.Fatalf("list = %s", res.Body)
			}
			for i, d := range list.Data {
				want := aitest.Vector(tc.inputs[i], tc.dims)
				var vec []float32
				if tc.base64 {
					var s string
					if err := json.Unmarshal(d.Embedding, &s); err != nil {
						t.Fatalf("embedding %d is not a base64 string: %s", i, d.Embedding)
					}
					raw, err := base64.StdEncoding.DecodeString(s)
					if err != nil || len(raw)%4 != 0 {
						t.Fatalf("embedding %d: %v (%d bytes)", i, err, len(raw))
					}
					for j := 0; j < len(raw); j += 4 {
						vec = append(vec, math.Float32frombits(binary.LittleEndian.Uint32(raw[j:])))
					}
				} else if err := json.Unmarshal(d.Embedding, &vec); err != nil {
					t.Fatalf("embedding %d: %v: %s", i, err, d.Embedding)
				}
				if d.Object != "embedding" || d.Index != i || len(vec) != len(want) {
					t.Fatalf("embedding %d = %+v (%d values, want %d)", i, d, len(vec), len(want))
				}
				for j := range want {
					if vec[j] != want[j] {
						t.Errorf("embedding %d[%d] = %v, want %v", i, j, vec[j], want[j])
					}
				}
			}
		})
	}
}

func TestEmbeddingsFloatFormat(t *testing.T) {
	t.Parallel()
	body := `{"embeddings":[{"values":[0.1, -0.0123456789, 1e-7, 3, 0]}]}`
	res, err := (&Provider{}).Decode(embedCall(`{"input":"x"}`), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.012345679,1e-07,3,0]}],"model":"gemini-embedding-001","usage":{"prompt_tokens":0,"total_tokens":0}}`
	if string(res.Body) != want {
		t.Errorf("body =\n%s\nwant\n%s", res.Body, want)
	}
	// embedContent's single answer is understood too.
	res, err = (&Provider{}).Decode(embedCall(`{"input":"x"}`), []byte(`{"embedding":{"values":[0.5]}}`))
	if err != nil || gjson.GetBytes(res.Body, "data.0.embedding").Raw != "[0.5]" {
		t.Errorf("single embedding: %v %s", err, res.Body)
	}
	for _, bad := range []string{`{}`, `{"embeddings":[{"values":["x"]}]}`, `{"embeddings":[{}]}`, `nope`} {
		if _, err := (&Provider{}).Decode(embedCall(`{"input":"x"}`), []byte(bad)); err == nil {
			t.Errorf("Decode(%s) succeeded", bad)
		}
	}
}

func TestEmbeddingsRefused(t *testing.T) {
	t.Parallel()
	_, p := newFake(t)
	for _, body := range []string{
		`{"input":[1,2,3]}`,
		`{"input":[[1,2],[3]]}`,
		`{"input":["ok",5]}`,
		`{"input":[]}`,
		`{"input":null}`,
		`{"input":"x","dimensions":"big"}`,
	} {
		_, err := p.Request(context.Background(), embedCall(body))
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Kind != provider.Invalid || pe.Status != 400 {
			t.Errorf("%s: err = %v", body, err)
		}
	}
}
