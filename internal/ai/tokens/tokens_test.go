package tokens

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model, text string
		want        int64
	}{
		// OpenAI Cookbook, "How to count tokens with tiktoken": 6 tokens
		// in both encodings.
		{"gpt-4", "tiktoken is great!", 6},
		{"gpt-4o", "tiktoken is great!", 6},
		// "Hello" "," " world" "!" in both.
		{"gpt-3.5-turbo", "Hello, world!", 4},
		{"gpt-4o-mini", "Hello, world!", 4},
		// Non-Latin text is where the encodings differ most.
		{"gpt-4", "héllo wörld 日本語のテキスト", 14},
		{"gpt-4.1-nano", "héllo wörld 日本語のテキスト", 11},
		// Special tokens count as plain text.
		{"gpt-4o", "<|endoftext|>", 7},
		{"gpt-4o", "", 0},
		{"claude-3-5-haiku-latest", "Hello, world!", 4},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.text, func(t *testing.T) {
			t.Parallel()
			if got := Count(tt.model, []byte(tt.text)); got != tt.want {
				t.Errorf("Count(%q, %q) = %d, want %d", tt.model, tt.text, got, tt.want)
			}
			if got := CountString(tt.model, tt.text); got != tt.want {
				t.Errorf("CountString(%q, %q) = %d, want %d", tt.model, tt.text, got, tt.want)
			}
		})
	}
}

func TestEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct{ model, want string }{
		{"gpt-4o", "o200k_base"},
		{"gpt-4o-2024-08-06", "o200k_base"},
		{"chatgpt-4o-latest", "o200k_base"},
		{"gpt-4.1-mini", "o200k_base"},
		{"gpt-5", "o200k_base"},
		{"gpt-5-nano", "o200k_base"},
		{"o1-mini", "o200k_base"},
		{"o3", "o200k_base"},
		{"o4-mini", "o200k_base"},
		{"ft:gpt-4o-mini:acme::abc123", "o200k_base"},
		{"gpt-4", "cl100k_base"},
		{"gpt-4-turbo", "cl100k_base"},
		{"gpt-3.5-turbo", "cl100k_base"},
		{"text-embedding-3-small", "cl100k_base"},
		{"claude-sonnet-4-5", "cl100k_base"},
		{"gemini-2.5-flash", "cl100k_base"},
		{"", "cl100k_base"},
	}
	for _, tt := range tests {
		if got := Encoding(tt.model); got != tt.want {
			t.Errorf("Encoding(%q) = %q, want %q", tt.model, got, tt.want)
		}
	}
}

// cookbookMessages is the OpenAI Cookbook's example for counting chat
// tokens; the API reported 129 prompt tokens for it on gpt-3.5-turbo and
// gpt-4, and 124 on gpt-4o and gpt-4o-mini.
const cookbookMessages = `{"model": "gpt-4", "messages": [
 {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
 {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
 {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
 {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
 {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
 {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}
]}`

func TestChatPromptCookbook(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]int64{"gpt-4": 129, "gpt-3.5-turbo": 129, "gpt-4o": 124, "gpt-4o-mini": 124} {
		if got := ChatPrompt(model, []byte(cookbookMessages)); got != want {
			t.Errorf("ChatPrompt(%q, cookbook) = %d, want %d", model, got, want)
		}
	}
}

func TestChatPrompt(t *testing.T) {
	t.Parallel()
	const model = "gpt-4o"
	c := func(s string) int64 { return CountString(model, s) }
	tool := `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}`
	body := `{"model":"gpt-4o","stream":true,
	 "messages":[
	  {"role":"system","content":"You are terse."},
	  {"role":"user","name":"alice","content":[{"type":"text","text":"Weather in Paris?"},
	    {"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"text","text":"And \"Lyon\"."}]},
	  {"role":"assistant","content":null,"tool_calls":[
	    {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
	    {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}}]},
	  {"role":"tool","tool_call_id":"call_1","content":"18C, sunny"},
	  {"role":"assistant","content":[{"type":"refusal","refusal":"I cannot."}]}
	 ],
	 "tools":[` + tool + `]}`
	want := 5*perMessage + perReply +
		c("system") + c("You are terse.") +
		c("user") + perName + c("alice") + c("Weather in Paris?") + c(`And "Lyon".`) +
		c("assistant") + 2*c("get_weather") + c(`{"city":"Paris"}`) + c(`{"city":"Lyon"}`) +
		c("tool") + c("18C, sunny") +
		c("assistant") + c("I cannot.") +
		c(tool)
	if got := ChatPrompt(model, []byte(body)); got != want {
		t.Errorf("ChatPrompt = %d, want %d", got, want)
	}
	if want < 60 || want > 120 {
		t.Errorf("expected count %d is implausible for this body", want) // guards the test itself
	}
}

func TestChatPromptNotChat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want int64
	}{
		{``, 0}, {`null`, 0}, {`[]`, 0}, {`"x"`, 0}, {`not json`, 0},
		{`{}`, perReply},
		{`{"messages":[]}`, perReply},
		{`{"messages":"hi"}`, perReply},
		{`{"messages":["hi", 3]}`, perReply},
		{`{"messages":[{"content":{"type":"text","text":"hi"}}], "tools":{"x":1}}`, perReply + perMessage},
	}
	for _, tt := range tests {
		if got := ChatPrompt("gpt-4o", []byte(tt.body)); got != tt.want {
			t.Errorf("ChatPrompt(%s) = %d, want %d", tt.body, got, tt.want)
		}
	}
}

func TestEmbeddingsInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       int64
	}{
		{"string", `{"input":"tiktoken is great!"}`, 6},
		{"strings", `{"input":["tiktoken is great!","Hello, world!"]}`, 10},
		{"token ids", `{"input":[1, 2, 3, 4, 5]}`, 5},
		{"arrays of token ids", `{"input":[[1,2,3],[4],[]]}`, 4},
		{"escaped", `{"input":"Hello,\u0020world!"}`, 4},
		{"none", `{"model":"x"}`, 0},
		{"number", `{"input":5}`, 0},
		{"not json", `nope`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EmbeddingsInput("text-embedding-3-small", []byte(tt.body)); got != tt.want {
				t.Errorf("EmbeddingsInput(%s) = %d, want %d", tt.body, got, tt.want)
			}
		})
	}
}

// prose returns n bytes or more of text shaped like model output: words,
// numbers, punctuation, markdown, code with indentation, blank lines, runs
// of spaces, non-Latin scripts and emoji, so every split pattern of the
// tokenizers is met at a chunk boundary.
func prose(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"the", "token", "Gateway", "can't", "we'll", "I'm", "JSON", "HTTP/2", "1234567", "3.14159",
		"naïve", "café", "日本語", "テキスト", "Привет", "مرحبا", "🙂", "👩‍💻", "x", "a", "don't", "…", "—",
		"func", "(ctx)", "{", "}", "**bold**", "`code`", "#", "-", "1.", "'quoted'", "\"q\"", "e.g.", "URL:"}
	seps := []string{" ", " ", " ", " ", ", ", ". ", "\n", "\n\n", "  ", "\t", " \n", ".\n", ":\n    ", ";\r\n", "\n\t\t", "   "}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteString(seps[r.IntN(len(seps))])
	}
	return b.Bytes()
}

// writeInPieces writes text to c in random pieces of 1 to 40 bytes, so
// pieces often split a multi-byte character.
func writeInPieces(c *Counter, text []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	for len(text) > 0 {
		n := min(1+r.IntN(40), len(text))
		c.Write(text[:n])
		text = text[n:]
	}
}

func TestCounterEqualsCount(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"gpt-4o", "gpt-4"} {
		for seed := range uint64(2) {
			t.Run(fmt.Sprintf("%s/%d", model, seed), func(t *testing.T) {
				t.Parallel()
				text := prose(seed, 100<<10)
				want := Count(model, text)
				c := NewCounter(model)
				writeInPieces(c, text, seed)
				// The cut points are exact (see Counter), so the counts are
				// equal, not just close.
				if got := c.Total(); got != want {
					t.Errorf("Counter = %d, Count = %d", got, want)
				}
				if len(c.buf) != 0 || cap(c.buf) > flushAt+holdMax {
					t.Errorf("buffer len %d cap %d after Total", len(c.buf), cap(c.buf))
				}
			})
		}
	}
}

// randomText returns n bytes or more of runs of characters chosen to meet
// the corners of the split patterns: every kind of Unicode whitespace,
// combining marks, contractions, digits of other scripts, invalid UTF-8
// and special-token text.
func randomText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	atoms := []string{"a", "Z", "é", "日", "ß", "\u0301", "7", "٣", " ", "  ", "\t", "\n", "\r", "\r\n",
		"\u00a0", "\u3000", "\u2028", "\u0085", "\v", "\f", ".", ",", "'", "'s", "'T", "/", "!", "?", "-", "_", "$",
		"🙂", "\xe6", "\x9c", "\xff", "<|endoftext|>"}
	b := make([]byte, 0, n+64)
	for len(b) < n {
		a := atoms[r.IntN(len(atoms))]
		for range 1 + r.IntN(6) {
			b = append(b, a...)
		}
	}
	return b
}

func TestCounterExactOnAnyText(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		text := randomText(seed, 40<<10)
		for _, model := range []string{"gpt-4o", "gpt-4"} {
			var c Counter
			c.Model = model
			writeInPieces(&c, text, seed)
			if got, want := c.Total(), Count(model, text); got != want {
				t.Errorf("seed %d, %s: Counter = %d, Count = %d", seed, model, got, want)
			}
		}
	}
}

func TestCounterWithoutCutPoints(t *testing.T) {
	t.Parallel()
	// Base64-like text has no whitespace: the Counter cuts every 64 KiB
	// at a character boundary, where a token may be split in two, so the
	// count is close (within ±1%) rather than exact.
	r := rand.New(rand.NewPCG(7, 7))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	text := make([]byte, 200<<10)
	for i := range text {
		text[i] = alphabet[r.IntN(len(alphabet))]
	}
	want := Count("gpt-4o", text)
	var c Counter
	c.Model = "gpt-4o"
	writeInPieces(&c, text, 7)
	got := c.Total()
	if diff := got - want; diff*100 > want || -diff*100 > want {
		t.Errorf("Counter = %d, Count = %d: more than 1%% apart", got, want)
	}
	if cap(c.buf) > flushAt+holdMax {
		t.Errorf("buffer grew to %d bytes", cap(c.buf))
	}
}

func TestCounterLargeWrite(t *testing.T) {
	t.Parallel()
	text := prose(9, 256<<10)
	var c Counter // zero value: cl100k_base
	c.Write(text)
	if got, want := c.Total(), Count("", text); got != want {
		t.Errorf("one 256 KiB Write: %d, want %d", got, want)
	}
	if cap(c.buf) > flushAt+holdMax {
		t.Errorf("buffer grew to %d bytes", cap(c.buf))
	}
}

func TestCounterReset(t *testing.T) {
	t.Parallel()
	c := NewCounter("gpt-4o")
	c.WriteString("tiktoken is great!")
	if got := c.Total(); got != 6 {
		t.Fatalf("Total = %d, want 6", got)
	}
	if got := c.Total(); got != 6 {
		t.Fatalf("second Total = %d, want 6", got)
	}
	c.WriteString(" Hello")
	if got := c.Total(); got != 7 {
		t.Fatalf("Total after more text = %d, want 7", got)
	}
	c.Reset()
	if got := c.Total(); got != 0 {
		t.Fatalf("Total after Reset = %d, want 0", got)
	}
	c.WriteString("Hello, world!")
	if got := c.Total(); got != 4 {
		t.Fatalf("Total after Reset and Write = %d, want 4", got)
	}
}

func TestLastCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want int
	}{
		{"hello world", 5},
		{"a b  c", 3},     // the run "  " starts at 3; 4 follows a space
		{"end.\nnext", 0}, // "." and "\n" can be one token
		{"word\nnext", 4}, // a line break after a letter
		{"x 12\n", 4},     // after a digit
		{"  \t", 0},       // whitespace only
		{"日本 語", 6},       // after a multi-byte letter
		{"a\u3000 b", 0},  // an ideographic space is whitespace too
		{"nospace", 0},
	}
	for _, tt := range tests {
		if got := lastCut([]byte(tt.text), 0); got != tt.want {
			t.Errorf("lastCut(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// FuzzCounter checks that counting a text in pieces gives the same count
// as counting it whole: the cut points must be exact for any text. The
// input is repeated past flushAt so the Counter cuts, and kept under
// holdMax so only cut points (never the fallback) are used.
func FuzzCounter(f *testing.F) {
	f.Add([]byte("Hello, world! "), uint64(1))
	f.Add([]byte("end.\nnext\n\n  x\t y"), uint64(2))
	f.Add([]byte("日本語 テキスト\r\n🙂 don't"), uint64(3))
	f.Add([]byte{0xe6, ' ', 0x80, '\n', 'a'}, uint64(4))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		if len(in) == 0 {
			return
		}
		text := bytes.Repeat(in, (40<<10)/len(in)+1)[:40<<10]
		for _, model := range []string{"gpt-4o", "gpt-4"} {
			var c Counter
			c.Model = model
			writeInPieces(&c, text, seed)
			if got, want := c.Total(), Count(model, text); got != want {
				t.Fatalf("%s: Counter = %d, Count = %d for %q repeated", model, got, want, in)
			}
		}
	})
}

func BenchmarkCount(b *testing.B) {
	for _, model := range []string{"gpt-4o", "gpt-4"} {
		text := prose(1, 4<<10)
		Count(model, text) // load the vocabulary
		b.Run(model+"/4KiB", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Count(model, text)
			}
		})
	}
}

func BenchmarkChatPrompt(b *testing.B) {
	body := []byte(cookbookMessages)
	ChatPrompt("gpt-4o", body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ChatPrompt("gpt-4o", body)
	}
}

func BenchmarkCounter(b *testing.B) {
	text := prose(2, 64<<10)
	c := NewCounter("gpt-4o")
	c.Write(text)
	c.Total()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		c.Reset()
		for p := text; len(p) > 0; {
			n := min(24, len(p)) // a typical streamed delta
			c.Write(p[:n])
			p = p[n:]
		}
		c.Total()
	}
}
