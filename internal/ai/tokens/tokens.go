// Package tokens counts the tokens of AI requests and answers with OpenAI's
// tokenizers, for the gateway's accounting when a provider reports no usage
// (an interrupted stream) and for reservations before a call.
//
// Counts are exact for OpenAI's models: o200k_base for the GPT-4o, GPT-4.1,
// GPT-4.5, GPT-5 and o-series families, cl100k_base for GPT-4, GPT-3.5 and
// the text-embedding-3 models. Every other model (Anthropic's, Gemini's,
// Mistral's, local ones) is counted with cl100k_base: an estimate, since
// those providers use tokenizers of their own that they do not publish; it
// is usually within 10–20% of the provider's count for English text.
//
// The vocabularies are embedded in the binary and built into memory the
// first time an encoding is needed (about 100 ms and tens of MB for
// o200k_base), once per process.
package tokens

import (
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// encoding is a tokenizer loaded on first use.
type encoding struct {
	name string
	load func() (tokenizer.Codec, error)
}

var (
	o200k = &encoding{string(tokenizer.O200kBase),
		sync.OnceValues(func() (tokenizer.Codec, error) { return tokenizer.Get(tokenizer.O200kBase) })}
	cl100k = &encoding{string(tokenizer.Cl100kBase),
		sync.OnceValues(func() (tokenizer.Codec, error) { return tokenizer.Get(tokenizer.Cl100kBase) })}
)

// o200kPrefixes are the model id prefixes of OpenAI's o200k_base models
// (tiktoken's own table; gpt-oss uses o200k_harmony, which is o200k_base
// with more special tokens, so plain text counts the same).
var o200kPrefixes = [...]string{
	"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "chatgpt-4o", "o1", "o3", "o4",
}

// encodingFor picks the encoding of a provider model id. A fine-tuned
// model ("ft:gpt-4o-mini:org::id") counts as its base model.
func encodingFor(model string) *encoding {
	model = strings.TrimPrefix(model, "ft:")
	for _, p := range o200kPrefixes {
		if strings.HasPrefix(model, p) {
			return o200k
		}
	}
	return cl100k
}

// Encoding returns the name of the encoding Count uses for model:
// "o200k_base" or "cl100k_base". It loads nothing.
func Encoding(model string) string { return encodingFor(model).name }

// Count returns the number of tokens of text for model, without special
// tokens: "<|endoftext|>" in text counts as ordinary text. Invalid UTF-8
// counts as the tokenizer splits it (byte-level tokens), never fails.
func Count(model string, text []byte) int64 {
	return encodingFor(model).count(string(text))
}

// CountString is Count for a string.
func CountString(model, text string) int64 {
	return encodingFor(model).count(text)
}

// count tokenizes text, loading the encoding if this is its first use.
func (enc *encoding) count(text string) int64 {
	if text == "" {
		return 0
	}
	c, err := enc.load()
	if err == nil {
		var n int
		if n, err = c.Count(text); err == nil {
			return int64(n)
		}
	}
	// The embedded vocabularies always load and the splitter has no
	// timeout, so this is unreachable in practice; one token per 4 bytes
	// is OpenAI's rule of thumb for English text.
	return int64(len(text)+3) / 4
}
