package ai

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// APIs a route can serve.
const (
	APIOpenAI  = "openai"
	APIPrompts = "prompts"
)

// Endpoint is what one route serves of a Service.
type Endpoint struct {
	s       *Service
	route   string
	api     string
	models  map[string]bool // nil: every model
	prompts map[string]bool // nil: every prompt
	maxBody int64
}

// Endpoint returns the endpoint of a route's ai block; maxBody is the
// route's request body limit.
func (s *Service) Endpoint(route string, rc *config.RouteAI, maxBody int64) *Endpoint {
	e := &Endpoint{s: s, route: route, api: rc.API, maxBody: maxBody}
	if e.api == "" {
		e.api = APIOpenAI
	}
	if len(rc.Models) > 0 {
		e.models = make(map[string]bool, len(rc.Models))
		for _, m := range rc.Models {
			e.models[m] = true
		}
	}
	if len(rc.Prompts) > 0 {
		e.prompts = make(map[string]bool, len(rc.Prompts))
		for _, p := range rc.Prompts {
			e.prompts[p] = true
		}
	}
	return e
}

// OpenAIErrors reports whether refusals on this route are written in
// OpenAI's error shape (the OpenAI-compatible API) rather than as plain
// problem+json (prompt APIs).
func (e *Endpoint) OpenAIErrors() bool { return e.api == APIOpenAI }

// Serve answers x. It writes the answer (a completion, a stream, a model
// list, a provider's refusal of the request) to w itself and returns nil,
// or returns the refusal for the gateway to write.
func (e *Endpoint) Serve(w http.ResponseWriter, x *pipeline.Exchange) *pipeline.Denial {
	path := x.Path
	method := x.Request.Method
	if e.api == APIPrompts {
		name := path[strings.LastIndexByte(path, '/')+1:]
		if method == http.MethodGet {
			return e.listPrompts(w, x)
		}
		if method != http.MethodPost {
			return methodNotAllowed(x, "GET, POST")
		}
		return e.servePrompt(w, x, name)
	}
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		if method != http.MethodPost {
			return methodNotAllowed(x, "POST")
		}
		return e.serveCall(w, x, provider.Chat)
	case strings.HasSuffix(path, "/embeddings"):
		if method != http.MethodPost {
			return methodNotAllowed(x, "POST")
		}
		return e.serveCall(w, x, provider.Embeddings)
	case strings.HasSuffix(path, "/models"):
		if method != http.MethodGet {
			return methodNotAllowed(x, "GET")
		}
		return e.listModels(w, x, "")
	}
	if i := strings.LastIndex(path, "/models/"); i >= 0 {
		if method != http.MethodGet {
			return methodNotAllowed(x, "GET")
		}
		return e.listModels(w, x, path[i+len("/models/"):])
	}
	return &pipeline.Denial{Code: "ai.endpoint_unknown", Params: map[string]string{"method": method, "path": path},
		Reason: "the OpenAI-compatible API serves chat/completions, embeddings and models"}
}

func methodNotAllowed(x *pipeline.Exchange, allow string) *pipeline.Denial {
	return &pipeline.Denial{Code: "route.method_not_allowed", Stage: "ai",
		Params: map[string]string{"method": x.Request.Method, "path": x.Path, "allow": allow},
		Header: http.Header{"Allow": {allow}}, Reason: "this AI endpoint allows " + allow}
}

// serves reports whether the route serves model name.
func (e *Endpoint) serves(name string) bool { return e.models == nil || e.models[name] }

// listModels answers GET models (id == "") or GET models/{id} with the
// models the caller may use.
func (e *Endpoint) listModels(w http.ResponseWriter, x *pipeline.Exchange, id string) *pipeline.Denial {
	c := callerOf(&x.Identity)
	rules := e.s.rulesFor(&c)
	b := make([]byte, 0, 256)
	if id != "" {
		m := e.s.models[id]
		if m == nil || !e.serves(id) {
			return modelUnknown(id, "no such model on this route")
		}
		if r := deniedBy(rules, id); r != nil {
			return modelNotAllowed(id, r)
		}
		b = appendModel(b, id)
		writeJSON(w, http.StatusOK, b)
		return nil
	}
	b = append(b, `{"object":"list","data":[`...)
	n := 0
	for _, name := range e.s.names {
		if !e.serves(name) || deniedBy(rules, name) != nil {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendModel(b, name)
		n++
	}
	b = append(b, "]}"...)
	writeJSON(w, http.StatusOK, b)
	return nil
}

func appendModel(b []byte, name string) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, name)
	return append(b, `,"object":"model","created":0,"owned_by":"pinpoint"}`...)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
