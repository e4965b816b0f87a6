package aitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// serveAnthropic answers the Anthropic wire: POST /v1/messages (plain and
// streamed) and GET /v1/models.
func (s *Server) serveAnthropic(x *exchange) {
	x.w.Header().Set("Request-Id", x.req.ID)
	x.w.Header().Set("Anthropic-Organization-Id", "00000000-0000-4000-8000-000000000000")

	key := x.r.Header.Get("X-Api-Key")
	if key == "" {
		key = strings.TrimPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	}
	if present, valid := s.checkKey(key); !valid {
		msg := "invalid x-api-key"
		if !present {
			msg = "x-api-key header is required"
		}
		x.unscripted(func() { anthropicError(x.w, x.req.ID, Failure{Status: 401, Message: msg}) })
		return
	}
	switch {
	case x.r.Method == http.MethodPost && x.req.Path == "/v1/messages":
		s.anthropicMessages(x)
	case x.r.Method == http.MethodGet && x.req.Path == "/v1/models":
		x.unscripted(func() {
			ids := s.modelList()
			data := make([]map[string]any, len(ids))
			for i, id := range ids {
				data[i] = map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}
			}
			out := map[string]any{"data": data, "has_more": false, "first_id": nil, "last_id": nil}
			if len(ids) > 0 {
				out["first_id"], out["last_id"] = ids[0], ids[len(ids)-1]
			}
			writeJSON(x.w, http.StatusOK, out)
		})
	default:
		x.unscripted(func() { anthropicError(x.w, x.req.ID, Failure{Status: 404, Message: "Not Found"}) })
	}
}

type anthropicRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Messages  *[]struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

// check validates the request the way the API does.
func (req *anthropicRequest) check() string {
	switch {
	case req.Model == "":
		return "model: Field required"
	case req.MaxTokens == nil:
		return "max_tokens: Field required"
	case *req.MaxTokens < 1:
		return "max_tokens: Input should be greater than or equal to 1"
	case req.Messages == nil:
		return "messages: Field required"
	case len(*req.Messages) == 0:
		return "messages: at least one message is required"
	}
	for i, m := range *req.Messages {
		switch m.Role {
		case "user", "assistant":
		case "system":
			return `messages: Unexpected role "system". The Messages API accepts a top-level ` + "`system`" + ` parameter, not "system" as an input message role.`
		default:
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if len(m.Content) == 0 {
			return fmt.Sprintf("messages.%d.content: Field required", i)
		}
	}
	return ""
}

func (s *Server) anthropicMessages(x *exchange) {
	if x.r.Header.Get("Anthropic-Version") == "" {
		x.unscripted(func() {
			anthropicError(x.w, x.req.ID, Failure{Status: 400, Message: "anthropic-version: header is required"})
		})
		return
	}
	var req anthropicRequest
	if err := json.Unmarshal(x.req.Body, &req); err != nil {
		x.unscripted(func() {
			anthropicError(x.w, x.req.ID, Failure{Status: 400, Message: "There was an error parsing the body: " + err.Error()})
		})
		return
	}
	x.req.Model, x.req.Stream = req.Model, req.Stream
	if msg := req.check(); msg != "" {
		x.unscripted(func() { anthropicError(x.w, x.req.ID, Failure{Status: 400, Message: msg}) })
		return
	}
	if !s.knownModel(req.Model) {
		x.unscripted(func() {
			anthropicError(x.w, x.req.ID, Failure{Status: 404, Message: "model: " + req.Model})
		})
		return
	}
	if !x.begin() {
		return
	}
	r := x.reply
	if x.failsWhole() {
		anthropicError(x.w, x.req.ID, *r.Fail)
		return
	}
	for _, tc := range r.ToolCalls {
		if !json.Valid([]byte(tc.Arguments)) || !strings.HasPrefix(strings.TrimSpace(tc.Arguments), "{") {
			anthropicError(x.w, x.req.ID, Failure{Status: 500, Message: "aitest: scripted tool arguments are not a JSON object: " + tc.Arguments})
			return
		}
	}
	model := r.Model
	if model == "" {
		model = req.Model
	}
	msgID := "msg_01" + tail(x.req.ID, 22)
	stop, stopSeq := anthropicStop(r)
	usage := map[string]any{
		"input_tokens": r.Usage.Input, "output_tokens": r.Usage.Output,
		"cache_creation_input_tokens": r.Usage.CacheWrite, "cache_read_input_tokens": r.Usage.Cached,
		"service_tier": "standard",
	}
	toolID := func(i int) string {
		if id := r.ToolCalls[i].ID; id != "" {
			return id
		}
		return fmt.Sprintf("toolu_01%s%02d", tail(x.req.ID, 20), i)
	}

	if !req.Stream {
		content := []any{}
		if r.Text != "" {
			content = append(content, map[string]any{"type": "text", "text": r.Text})
		}
		for i, tc := range r.ToolCalls {
			content = append(content, map[string]any{"type": "tool_use", "id": toolID(i), "name": tc.Name, "input": json.RawMessage(tc.Arguments)})
		}
		writeJSON(x.w, http.StatusOK, map[string]any{
			"id": msgID, "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": stop, "stop_sequence": stopSeq, "usage": usage,
		})
		return
	}

	st := &sse{x: x}
	st.start()
	event := func(name string, v map[string]any) bool {
		if st.failing() {
			st.send("error", marshal(map[string]any{"type": "error", "error": anthropicErrorBody(*r.Fail)}))
			st.dead = true
			return false
		}
		v["type"] = name
		return st.send(name, marshal(v))
	}
	startUsage := map[string]any{
		"input_tokens": r.Usage.Input, "output_tokens": min(1, r.Usage.Output),
		"cache_creation_input_tokens": r.Usage.CacheWrite, "cache_read_input_tokens": r.Usage.Cached,
		"service_tier": "standard",
	}
	if !event("message_start", map[string]any{"message": map[string]any{
		"id": msgID, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": startUsage,
	}}) {
		return
	}
	pinged := false
	ping := func() bool {
		if pinged {
			return true
		}
		pinged = true
		return event("ping", map[string]any{})
	}
	index := 0
	if r.Text != "" {
		if !event("content_block_start", map[string]any{"index": index, "content_block": map[string]any{"type": "text", "text": ""}}) || !ping() {
			return
		}
		for _, p := range r.textPieces() {
			if !event("content_block_delta", map[string]any{"index": index, "delta": map[string]any{"type": "text_delta", "text": p}}) {
				return
			}
		}
		if !event("content_block_stop", map[string]any{"index": index}) {
			return
		}
		index++
	}
	for i, tc := range r.ToolCalls {
		if !event("content_block_start", map[string]any{"index": index, "content_block": map[string]any{"type": "tool_use", "id": toolID(i), "name": tc.Name, "input": map[string]any{}}}) || !ping() {
			return
		}
		for _, p := range r.argPieces(tc.Arguments) {
			if !event("content_block_delta", map[string]any{"index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": p}}) {
				return
			}
		}
		if !event("content_block_stop", map[string]any{"index": index}) {
			return
		}
		index++
	}
	if !ping() {
		return
	}
	delete(usage, "service_tier")
	if !event("message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": stopSeq}, "usage": usage}) {
		return
	}
	event("message_stop", map[string]any{})
}

// anthropicStop maps the reply's finish reason to stop_reason and
// stop_sequence.
func anthropicStop(r Reply) (string, any) {
	if r.Finish == "" && r.StopSequence != "" {
		return "stop_sequence", r.StopSequence
	}
	var seq any
	if r.StopSequence != "" {
		seq = r.StopSequence
	}
	switch f := r.finish(); f {
	case "stop":
		return "end_turn", seq
	case "length":
		return "max_tokens", seq
	case "tool_calls":
		return "tool_use", seq
	case "content_filter":
		return "refusal", seq
	default:
		return f, seq
	}
}

func anthropicErrorBody(f Failure) map[string]any {
	status := f.status()
	typ, msg := f.Type, f.Message
	if typ == "" {
		switch status {
		case 400:
			typ = "invalid_request_error"
		case 401:
			typ = "authentication_error"
		case 402:
			typ = "billing_error"
		case 403:
			typ = "permission_error"
		case 404:
			typ = "not_found_error"
		case 413:
			typ = "request_too_large"
		case 429:
			typ = "rate_limit_error"
		case 504:
			typ = "timeout_error"
		case 529:
			typ = "overloaded_error"
		default:
			if status >= 500 {
				typ = "api_error"
			} else {
				typ = "invalid_request_error"
			}
		}
	}
	if msg == "" {
		switch status {
		case 429:
			msg = "Number of request tokens has exceeded your per-minute rate limit"
		case 529:
			msg = "Overloaded"
		case 500:
			msg = "Internal server error"
		default:
			msg = http.StatusText(status)
		}
	}
	return map[string]any{"type": typ, "message": msg}
}

// anthropicError writes {"type":"error","error":{"type","message"},"request_id"}.
func anthropicError(w http.ResponseWriter, reqID string, f Failure) {
	f.writeHeaders(w, false)
	writeJSON(w, f.status(), map[string]any{"type": "error", "error": anthropicErrorBody(f), "request_id": reqID})
}
