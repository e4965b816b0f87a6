// Package mistral is the provider for Mistral's API (kind "mistral"):
// OpenAI's format, with a few request fields that Mistral rejects or
// names otherwise and one finish reason of its own.
//
// Requests are edited on a copy: the OpenAI-only fields stream_options,
// store, metadata, service_tier, logprobs, top_logprobs, user and
// modalities are dropped (Mistral reports a stream's usage in its last
// chunk unasked), max_completion_tokens becomes max_tokens, seed becomes
// random_seed and tool_choice "required" becomes "any"; for embeddings,
// user is dropped and dimensions becomes output_dimension. In answers and
// stream chunks the finish reason "model_length" becomes "length".
package mistral

import (
	"bytes"
	"slices"
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/pinpointgw/pinpoint/internal/ai/openai"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// DefaultBaseURL is the base URL of Mistral's API.
const DefaultBaseURL = "https://api.mistral.ai/v1"

func init() {
	provider.Register("mistral", provider.Factory{
		DefaultBaseURL: DefaultBaseURL,
		NeedsKey:       true,
		Embeddings:     true,
		New: func(c provider.Config) (provider.Provider, error) {
			return New(c)
		},
	})
}

// New builds a Mistral provider for c.
func New(c provider.Config) (*openai.Provider, error) {
	return openai.New(c, openai.Dialect{NeedsKey: true, Body: body, Answer: answer})
}

// dropped are the top-level chat fields Mistral rejects.
var dropped = map[string]bool{
	"stream_options": true, "store": true, "metadata": true, "service_tier": true,
	"logprobs": true, "top_logprobs": true, "user": true, "modalities": true,
}

// renamed maps OpenAI's names of chat fields to Mistral's.
var renamed = map[string]string{"max_completion_tokens": "max_tokens", "seed": "random_seed"}

// embeddingRenamed maps OpenAI's names of embeddings fields to Mistral's.
var embeddingRenamed = map[string]string{"dimensions": "output_dimension"}

// body returns the request body Mistral accepts for c: c.Body itself
// when nothing needs an edit, else an edited copy.
func body(c *provider.Call) ([]byte, error) {
	drop, rename := dropped, renamed
	if c.Op == provider.Embeddings {
		drop, rename = map[string]bool{"user": true}, embeddingRenamed
	}
	// One pass over the top-level fields finds what to change.
	type move struct{ from, to, raw string }
	var (
		dels      []string
		moves     []move
		mistral   []string // Mistral's own names already in the body
		anyChoice bool
	)
	view(c.Body).ForEach(func(k, v gjson.Result) bool {
		switch {
		case drop[k.Str]:
			dels = append(dels, k.Str)
		case rename[k.Str] != "":
			moves = append(moves, move{k.Str, rename[k.Str], v.Raw})
		case k.Str == "tool_choice" && c.Op == provider.Chat && v.Type == gjson.String && v.Str == "required":
			anyChoice = true
		case k.Str == "max_tokens" || k.Str == "random_seed" || k.Str == "output_dimension":
			mistral = append(mistral, k.Str)
		}
		return true
	})
	if len(dels) == 0 && len(moves) == 0 && !anyChoice {
		return c.Body, nil
	}
	// sjson returns a new buffer for every edit, so c.Body stays intact.
	out := c.Body
	var err error
	for _, k := range dels {
		if out, err = sjson.DeleteBytes(out, k); err != nil {
			return nil, err
		}
	}
	for _, m := range moves {
		// An explicit Mistral name wins over OpenAI's.
		if !slices.Contains(mistral, m.to) {
			if out, err = sjson.SetRawBytes(out, m.to, []byte(m.raw)); err != nil {
				return nil, err
			}
		}
		if out, err = sjson.DeleteBytes(out, m.from); err != nil {
			return nil, err
		}
	}
	if anyChoice {
		if out, err = sjson.SetBytes(out, "tool_choice", "any"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var modelLength = []byte(`"model_length"`)

// answer maps Mistral's finish reason "model_length" (the model's context
// is full) to OpenAI's "length" in a chat completion or chunk; b is
// returned as is when it has none.
func answer(b []byte) ([]byte, error) {
	if !bytes.Contains(b, modelLength) {
		return b, nil
	}
	out := b
	var err error
	i := 0
	view(b).Get("choices").ForEach(func(_, choice gjson.Result) bool {
		if choice.Get("finish_reason").Str == "model_length" {
			out, err = sjson.SetBytes(out, "choices."+strconv.Itoa(i)+".finish_reason", "length")
		}
		i++
		return err == nil
	})
	return out, err
}

// view parses b without copying it; the results are used before b could
// change.
func view(b []byte) gjson.Result {
	return gjson.Parse(unsafe.String(unsafe.SliceData(b), len(b)))
}
