// Package aitest provides fake AI provider servers that speak the real wire
// formats of OpenAI (and Azure OpenAI, Mistral and any OpenAI-compatible
// server), Anthropic Messages and Google Gemini, including streaming and
// errors. The fakes are checked against the providers' official SDKs (see
// sdk_test.go and sdkcheck/), so a gateway tested against them is tested
// against what real clients accept.
//
// A test starts a fake, scripts what it answers and inspects what it got:
//
//	up := aitest.NewOpenAI(t)
//	up.Script("gpt-4o-mini", aitest.Reply{Text: "Hi!", Usage: aitest.Usage{Input: 9, Output: 2}})
//	up.FailNext(1, aitest.Failure{Status: 429, RetryAfter: time.Second})
//	... point the gateway at up.URL+"/v1" ...
//	last, _ := up.Last() // headers, body, model, stream flag, the reply given
//	n := up.CallsFor("gpt-4o-mini")
//
// Scripts choose, per model or per call, the text, tool calls, finish
// reason, usage, stream pieces and pacing, a broken or stalled stream, a
// hang, or an error (also for the next N calls whatever their model).
// The same Reply is rendered in each provider's own format, so one
// scenario runs against every provider.
//
// Benchmarks and standalone programs use Start (no *testing.T) and Close,
// or serve a Server on their own listener: Server is an http.Handler.
package aitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Provider names a wire format.
type Provider string

// The wire formats a Server can speak.
const (
	// OpenAI is the Chat Completions, Embeddings and Models API, also spoken
	// by Mistral and OpenAI-compatible servers (Ollama, vLLM, llama.cpp…),
	// and, under /openai/deployments/{deployment}/…?api-version=…, by Azure
	// OpenAI.
	OpenAI Provider = "openai"
	// Anthropic is the Messages API (POST /v1/messages, GET /v1/models).
	Anthropic Provider = "anthropic"
	// Gemini is the Gemini API (generateContent, streamGenerateContent,
	// embedContent, batchEmbedContents, models) under /v1beta and /v1.
	Gemini Provider = "gemini"
)

var _ http.Handler = (*Server)(nil)

// DefaultKeep is how many requests a Server remembers by default.
const DefaultKeep = 256

// Server is one fake provider. Its methods are safe for concurrent use,
// also while requests are being served.
type Server struct {
	// URL is the base URL of a started server (no trailing slash), e.g.
	// http://127.0.0.1:41234. Clients append the provider's own paths:
	// URL+"/v1" is the OpenAI SDK's baseURL, URL the Anthropic and Gemini
	// SDKs' baseURL.
	URL string

	provider Provider
	ts       *httptest.Server
	done     chan struct{}
	doneOnce sync.Once
	seq      atomic.Uint64

	mu       sync.Mutex
	key      string
	models   []string
	strict   bool
	standing map[string]Reply
	queued   map[string][]Reply
	fn       func(*Request) (Reply, bool)
	failN    int
	failWith Failure
	keep     int
	reqs     []Request
	calls    int
	perModel map[string]int
}

// Request is one request a Server received.
type Request struct {
	// ID is the request id the fake answered with (x-request-id for
	// OpenAI, request-id for Anthropic, responseId for Gemini).
	ID     string
	Method string
	// Path is the URL path, e.g. /v1/chat/completions or
	// /v1beta/models/gemini-2.0-flash:streamGenerateContent.
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Model is the model the request named (from the body, the Azure
	// deployment or the Gemini path).
	Model string
	// Stream tells whether a streamed answer was asked for.
	Stream bool
	// Reply is what the fake answered (after scripting was resolved).
	Reply Reply

	sent *sentLog
}

// sentLog holds when each stream event was flushed; copies of a Request
// share it, so it fills in after the Request was recorded.
type sentLog struct {
	mu sync.Mutex
	at []time.Time
}

// SentAt returns when each stream event of the answer was handed to the
// connection (written and flushed at once), so far: with the client's arrival times it
// measures what a proxy in between adds per chunk. Empty for answers
// that are not streams.
func (r Request) SentAt() []time.Time {
	if r.sent == nil {
		return nil
	}
	r.sent.mu.Lock()
	defer r.sent.mu.Unlock()
	return append([]time.Time(nil), r.sent.at...)
}

// Decode unmarshals the request body into v.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Body, v) }

// NewServer returns an unstarted fake for p. Serve it on any listener, or
// call Start.
func NewServer(p Provider) *Server {
	switch p {
	case OpenAI, Anthropic, Gemini:
	default:
		panic(fmt.Sprintf("aitest: unknown provider %q", p))
	}
	return &Server{
		provider: p,
		done:     make(chan struct{}),
		keep:     DefaultKeep,
		standing: map[string]Reply{},
		queued:   map[string][]Reply{},
		perModel: map[string]int{},
		models:   defaultModels[p],
	}
}

// Start returns a fake for p serving on a loopback port; the caller must
// Close it. It needs no *testing.T, for benchmarks and programs.
func Start(p Provider) *Server {
	s := NewServer(p)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

func startT(t testing.TB, p Provider) *Server {
	t.Helper()
	s := Start(p)
	t.Cleanup(s.Close)
	return s
}

// NewOpenAI starts an OpenAI-wire fake closed when the test ends.
func NewOpenAI(t testing.TB) *Server { return startT(t, OpenAI) }

// NewAnthropic starts an Anthropic-wire fake closed when the test ends.
func NewAnthropic(t testing.TB) *Server { return startT(t, Anthropic) }

// NewGemini starts a Gemini-wire fake closed when the test ends.
func NewGemini(t testing.TB) *Server { return startT(t, Gemini) }

// Provider returns the wire format the server speaks.
func (s *Server) Provider() Provider { return s.provider }

// Close releases every hanging or streaming request and stops a started
// server. It is safe to call more than once.
func (s *Server) Close() {
	s.doneOnce.Do(func() { close(s.done) })
	if s.ts != nil {
		s.ts.Close()
	}
}

// RequireKey makes the fake accept only this API key (by the provider's
// own header: Authorization: Bearer, api-key, x-api-key, x-goog-api-key or
// ?key=). By default any non-empty key is accepted; a missing key is
// always refused as the provider refuses it.
func (s *Server) RequireKey(key string) {
	s.mu.Lock()
	s.key = key
	s.mu.Unlock()
}

// Models sets the models the fake lists and, once set, the only models it
// serves: any other model gets the provider's "model not found" error.
func (s *Server) Models(ids ...string) {
	s.mu.Lock()
	s.models = append([]string(nil), ids...)
	s.strict = true
	s.mu.Unlock()
}

// Script sets the standing reply for a model: every call naming it gets r
// (unless a queued reply or failure comes first). Model "" is the reply
// for models with no script of their own. Unscripted calls get the text
// "Hello from the fake." with 12 input and 5 output tokens.
func (s *Server) Script(model string, r Reply) {
	s.mu.Lock()
	s.standing[model] = r
	s.mu.Unlock()
}

// Enqueue adds one-off replies for a model ("" = any call), consumed one
// per call in order. They come before every standing reply: a model's
// queue first, then the any-call queue.
func (s *Server) Enqueue(model string, rs ...Reply) {
	s.mu.Lock()
	s.queued[model] = append(s.queued[model], rs...)
	s.mu.Unlock()
}

// ScriptFunc sets a function consulted after the queues and before the
// standing replies; it returns false to fall through. It runs on the
// serving goroutine, possibly concurrently.
func (s *Server) ScriptFunc(fn func(*Request) (Reply, bool)) {
	s.mu.Lock()
	s.fn = fn
	s.mu.Unlock()
}

// FailNext makes the next n calls, whatever their model, fail with f.
// It takes precedence over every script.
func (s *Server) FailNext(n int, f Failure) {
	s.mu.Lock()
	s.failN = n
	s.failWith = f
	s.mu.Unlock()
}

// Keep sets how many of the latest requests Requests returns (default
// DefaultKeep); older ones are dropped so long benchmarks stay small.
// Keep(0) records none (counts still work).
func (s *Server) Keep(n int) {
	s.mu.Lock()
	s.keep = n
	if len(s.reqs) > n {
		s.reqs = append([]Request(nil), s.reqs[len(s.reqs)-n:]...)
	}
	s.mu.Unlock()
}

// Requests returns the latest requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the latest request received; ok is false when none was.
func (s *Server) Last() (r Request, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return Request{}, false
	}
	return s.reqs[len(s.reqs)-1], true
}

// Calls returns how many requests the fake received, all endpoints and
// models together, including refused ones.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsFor returns how many requests named model.
func (s *Server) CallsFor(model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perModel[model]
}

// Reset forgets scripts, queued replies, pending failures, the key, the
// model list and the recorded requests and counts.
func (s *Server) Reset() {
	s.mu.Lock()
	s.key, s.strict, s.fn, s.failN = "", false, nil, 0
	s.models = defaultModels[s.provider]
	s.standing = map[string]Reply{}
	s.queued = map[string][]Reply{}
	s.reqs, s.calls = nil, 0
	s.perModel = map[string]int{}
	s.mu.Unlock()
}

// ServeHTTP answers one request in the provider's wire format.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &Request{
		ID:     s.newID(),
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		sent:   &sentLog{},
	}
	x := &exchange{s: s, w: w, r: r, req: req}
	switch s.provider {
	case OpenAI:
		s.serveOpenAI(x)
	case Anthropic:
		s.serveAnthropic(x)
	case Gemini:
		s.serveGemini(x)
	}
}

// newID returns a request id in the form the provider uses.
func (s *Server) newID() string {
	n := s.seq.Add(1)
	switch s.provider {
	case Anthropic:
		return fmt.Sprintf("req_011CA%019d", n)
	case Gemini:
		return fmt.Sprintf("aitestResp%012d", n)
	default:
		return fmt.Sprintf("req_%032x", n)
	}
}

// record stores req and counts it.
func (s *Server) record(req *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if req.Model != "" {
		s.perModel[req.Model]++
	}
	if s.keep <= 0 {
		return
	}
	if len(s.reqs) >= s.keep {
		copy(s.reqs, s.reqs[1:])
		s.reqs = s.reqs[:len(s.reqs)-1]
	}
	s.reqs = append(s.reqs, *req)
}

// checkKey tells whether key is acceptable: present, and equal to the
// required key when one is set.
func (s *Server) checkKey(key string) (present, valid bool) {
	s.mu.Lock()
	want := s.key
	s.mu.Unlock()
	if key == "" {
		return false, false
	}
	return true, want == "" || key == want
}

// knownModel tells whether the fake serves model.
func (s *Server) knownModel(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.strict {
		return true
	}
	for _, m := range s.models {
		if m == model {
			return true
		}
	}
	return false
}

func (s *Server) modelList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.models...)
}

// resolve picks the reply for req: a pending failure, then the model's
// queue, the any-model queue, the script function, the model's standing
// reply, the any-model standing reply, and finally DefaultReply.
func (s *Server) resolve(req *Request) Reply {
	s.mu.Lock()
	if s.failN > 0 {
		s.failN--
		f := s.failWith
		s.mu.Unlock()
		return Reply{Fail: &f}
	}
	for _, m := range []string{req.Model, ""} {
		if q := s.queued[m]; len(q) > 0 {
			r := q[0]
			s.queued[m] = q[1:]
			s.mu.Unlock()
			return r
		}
	}
	fn := s.fn
	s.mu.Unlock()
	if fn != nil {
		if r, ok := fn(req); ok {
			return r
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.standing[req.Model]; ok {
		return r
	}
	if r, ok := s.standing[""]; ok {
		return r
	}
	return defaultReply
}

var defaultModels = map[Provider][]string{
	OpenAI:    {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"},
	Anthropic: {"claude-sonnet-4-5", "claude-haiku-4-5"},
	Gemini:    {"gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001"},
}

// writeJSON writes v as the whole response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "aitest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v for an SSE data line; the values the fakes build
// always encode.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("aitest: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func unixNow() int64 { return time.Now().Unix() }
