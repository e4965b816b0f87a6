// Command fakeopenai is the AI benchmark's upstream: a small OpenAI-compatible
// server that answers POST /v1/chat/completions the way api.openai.com does,
// with a fixed completion, so that what bench/ai.sh measures is the gateway in
// front of it.
//
//	fakeopenai -listen 127.0.0.1:18091 -chunks 50 -chunk-delay 0
//
// A request without "stream": true gets one chat.completion object with
// usage. With "stream": true the reply is Server-Sent Events: a first chunk
// with the assistant role, -chunks chunks of one token each (flushed one by
// one, -chunk-delay apart), a chunk with finish_reason "stop", with
// "stream_options": {"include_usage": true} a last chunk with the usage and
// no choices, and data: [DONE]. The streamed tokens joined are the
// non-streamed message, and completion_tokens is -chunks in both.
//
// Every reply body is built once at start, so a request costs a JSON decode
// of its body and a few writes; the server stays far from being the
// benchmark's bottleneck. With -api-key set, requests must carry
// "Authorization: Bearer <key>", as with OpenAI; that shows a gateway
// really forwards (or substitutes) the provider key.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fixed fields of every reply, in the shape OpenAI gives them today.
const (
	// CompletionID is the "id" of every completion and chunk; a client can
	// check it to know the reply came from this server.
	CompletionID = "chatcmpl-pinpointbench0000000000000"
	// Model is the "model" of every reply: the dated name OpenAI answers
	// with when a request names the alias "gpt-4o-mini".
	Model             = "gpt-4o-mini-2024-07-18"
	created           = 1764633600
	systemFingerprint = "fp_pinpoint01"
	// PromptTokens is usage.prompt_tokens of every reply, whatever the
	// request: the fake does not tokenize.
	PromptTokens = 19
)

// words are the completion's tokens, taken in turn; chunk i carries
// words[i%len(words)] with a leading space (the first without).
var words = []string{
	"Pinpoint", "is", "an", "API", "gateway", "that", "explains", "every", "refusal", "it", "makes,",
	"routes", "model", "calls", "to", "many", "providers", "and", "counts", "their", "tokens", "and", "cost.",
}

// options configure the replies.
type options struct {
	chunks     int           // content chunks of a stream, one token each; also completion_tokens
	chunkDelay time.Duration // pause before each content chunk of a stream
	apiKey     string        // when set, the bearer token every request must carry
}

// replies are the prebuilt bodies of one options value.
type replies struct {
	completion    []byte   // the non-streamed body
	contentLength string   // len(completion)
	head          []byte   // the role chunk
	content       [][]byte // one event per token
	contentUsage  [][]byte // the same with "usage":null, as with include_usage
	headUsage     []byte
	finish        []byte // finish_reason "stop"
	finishUsage   []byte
	usage         []byte // the usage chunk
	done          []byte // data: [DONE]
}

// token returns the i-th streamed token.
func token(i int) string {
	w := words[i%len(words)]
	if i == 0 {
		return w
	}
	return " " + w
}

// usageJSON is the usage object for the given completion token count.
func usageJSON(completion int) string {
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,`+
		`"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},`+
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
		PromptTokens, completion, PromptTokens+completion)
}

// event frames one chunk object as an SSE event.
func event(choices, usage string) []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"` + CompletionID + `","object":"chat.completion.chunk","created":` + strconv.Itoa(created) +
		`,"model":"` + Model + `","service_tier":"default","system_fingerprint":"` + systemFingerprint + `","choices":` + choices)
	if usage != "" {
		b.WriteString(`,"usage":` + usage)
	}
	b.WriteString("}\n\n")
	return b.Bytes()
}

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func buildReplies(o options) *replies {
	var text bytes.Buffer
	r := &replies{}
	for i := range o.chunks {
		t := token(i)
		text.WriteString(t)
		delta := `[{"index":0,"delta":{"content":` + jsonString(t) + `},"logprobs":null,"finish_reason":null}]`
		r.content = append(r.content, event(delta, ""))
		r.contentUsage = append(r.contentUsage, event(delta, "null"))
	}
	head := `[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`
	r.head, r.headUsage = event(head, ""), event(head, "null")
	finish := `[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`
	r.finish, r.finishUsage = event(finish, ""), event(finish, "null")
	r.usage = event("[]", usageJSON(o.chunks))
	r.done = []byte("data: [DONE]\n\n")
	r.completion = []byte(`{"id":"` + CompletionID + `","object":"chat.completion","created":` + strconv.Itoa(created) +
		`,"model":"` + Model + `","choices":[{"index":0,"message":{"role":"assistant","content":` + jsonString(text.String()) +
		`,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":` + usageJSON(o.chunks) +
		`,"service_tier":"default","system_fingerprint":"` + systemFingerprint + `"}` + "\n")
	r.contentLength = strconv.Itoa(len(r.completion))
	return r
}

// chatRequest is the part of a chat completion request the fake reads.
type chatRequest struct {
	Model         string            `json:"model"`
	Messages      []json.RawMessage `json:"messages"`
	Stream        bool              `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// bodies pools request body buffers so a request allocates little.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxBody bounds a request body, as OpenAI does.
const maxBody = 1 << 20

// writeError answers in OpenAI's error shape.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func handler(o options) http.Handler {
	r := buildReplies(o)
	wantAuth := "Bearer " + o.apiKey
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, req *http.Request) {
		if o.apiKey != "" && req.Header.Get("Authorization") != wantAuth {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
			return
		}
		buf := bodies.Get().(*bytes.Buffer)
		buf.Reset()
		defer bodies.Put(buf)
		if _, err := buf.ReadFrom(io.LimitReader(req.Body, maxBody+1)); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "could not read the request body: "+err.Error())
			return
		}
		if buf.Len() > maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "request body too large")
			return
		}
		var cr chatRequest
		if err := json.Unmarshal(buf.Bytes(), &cr); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request: "+err.Error())
			return
		}
		if cr.Model == "" || len(cr.Messages) == 0 {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "you must provide a model and at least one message")
			return
		}
		h := w.Header()
		h.Set("X-Request-Id", "req_pinpointbench")
		if !cr.Stream {
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", r.contentLength)
			_, _ = w.Write(r.completion)
			return
		}
		includeUsage := cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		stream(w, req, r, o.chunkDelay, includeUsage)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+req.Method+" "+req.URL.Path+".")
	})
	return mux
}

// stream writes the events of one streamed completion, flushing after each
// so that every chunk leaves as its own write, as from a real model.
func stream(w http.ResponseWriter, req *http.Request, r *replies, delay time.Duration, includeUsage bool) {
	f := http.NewResponseController(w)
	content, head, finish := r.content, r.head, r.finish
	if includeUsage {
		content, head, finish = r.contentUsage, r.headUsage, r.finishUsage
	}
	send := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		return f.Flush() == nil
	}
	if !send(head) {
		return
	}
	var timer *time.Timer
	for _, c := range content {
		if delay > 0 {
			if timer == nil {
				timer = time.NewTimer(delay)
				defer timer.Stop()
			} else {
				timer.Reset(delay)
			}
			select {
			case <-timer.C:
			case <-req.Context().Done():
				return
			}
		}
		if !send(c) {
			return
		}
	}
	if !send(finish) {
		return
	}
	if includeUsage && !send(r.usage) {
		return
	}
	send(r.done)
}

func main() {
	var o options
	listen := flag.String("listen", "127.0.0.1:18091", "address to serve on")
	flag.IntVar(&o.chunks, "chunks", 50, "content chunks per stream, one token each (also completion_tokens)")
	flag.DurationVar(&o.chunkDelay, "chunk-delay", 0, "pause before each content chunk of a stream, e.g. 5ms")
	flag.StringVar(&o.apiKey, "api-key", "", "when set, requests must carry Authorization: Bearer KEY")
	flag.Parse()
	if o.chunks < 1 || o.chunkDelay < 0 {
		log.Fatal("fakeopenai: -chunks must be at least 1 and -chunk-delay not negative")
	}
	srv := &http.Server{Addr: *listen, Handler: handler(o), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
