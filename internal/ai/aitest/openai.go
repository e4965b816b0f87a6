package aitest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// serveOpenAI answers the OpenAI wire: /…/chat/completions, /…/embeddings,
// /…/models[/{id}] under any prefix (/v1 for OpenAI and Mistral, whatever
// an OpenAI-compatible server uses), and Azure OpenAI's
// /openai/deployments/{deployment}/{chat/completions|embeddings}.
func (s *Server) serveOpenAI(x *exchange) {
	path := x.req.Path
	azure := strings.HasPrefix(path, "/openai/deployments/")
	deployment := ""
	if azure {
		rest := strings.TrimPrefix(path, "/openai/deployments/")
		deployment, path, _ = strings.Cut(rest, "/")
		path = "/" + path
		if x.req.Query.Get("api-version") == "" {
			x.unscripted(func() { azureError(x.w, http.StatusNotFound, "404", "Resource not found") })
			return
		}
	}
	x.w.Header().Set("X-Request-Id", x.req.ID)
	x.w.Header().Set("Openai-Version", "2020-10-01")
	x.w.Header().Set("Openai-Processing-Ms", "1")
	if azure {
		x.w.Header().Set("Apim-Request-Id", x.req.ID)
	} else {
		x.w.Header().Set("Openai-Organization", "aitest")
	}

	key := strings.TrimPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	if azure && x.r.Header.Get("Api-Key") != "" {
		key = x.r.Header.Get("Api-Key")
	}
	if present, valid := s.checkKey(key); !valid {
		x.unscripted(func() {
			switch {
			case azure:
				azureError(x.w, http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
			case !present:
				openAIError(x.w, Failure{Status: 401, Code: "-", Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."})
			default:
				openAIError(x.w, Failure{Status: 401, Message: "Incorrect API key provided: " + maskKey(key) + ". You can find your API key at https://platform.openai.com/account/api-keys."})
			}
		})
		return
	}

	switch {
	case x.r.Method == http.MethodPost && at(path, "/chat/completions", azure):
		s.openAIChat(x, deployment)
	case x.r.Method == http.MethodPost && at(path, "/embeddings", azure):
		s.openAIEmbeddings(x, deployment)
	case !azure && x.r.Method == http.MethodGet && strings.HasSuffix(path, "/models"):
		x.unscripted(func() {
			data := []map[string]any{}
			for _, m := range s.modelList() {
				data = append(data, openAIModel(m))
			}
			writeJSON(x.w, http.StatusOK, map[string]any{"object": "list", "data": data})
		})
	case !azure && x.r.Method == http.MethodGet && strings.Contains(path, "/models/"):
		id := path[strings.LastIndex(path, "/models/")+len("/models/"):]
		x.req.Model = id
		x.unscripted(func() {
			for _, m := range s.modelList() {
				if m == id {
					writeJSON(x.w, http.StatusOK, openAIModel(m))
					return
				}
			}
			openAIError(x.w, Failure{Status: 404, Message: "The model '" + id + "' does not exist", Code: "model_not_found", Param: "model"})
		})
	default:
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 404, Message: "Invalid URL (" + x.r.Method + " " + x.req.Path + ")", Code: "-"})
		})
	}
}

// at tells whether path is the endpoint: exactly under an Azure
// deployment, under any prefix otherwise.
func at(path, endpoint string, azure bool) bool {
	if azure {
		return path == endpoint
	}
	return strings.HasSuffix(path, endpoint)
}

// tail returns the last n characters of a request id, its unique part.
func tail(id string, n int) string { return id[len(id)-n:] }

func openAIModel(id string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": 1700000000, "owned_by": "aitest"}
}

// maskKey shows a key the way OpenAI's error message does.
func maskKey(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:3] + strings.Repeat("*", 4) + k[len(k)-4:]
}

type openAIChatRequest struct {
	Model         string            `json:"model"`
	Messages      []json.RawMessage `json:"messages"`
	Stream        bool              `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type openAIMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type openAIPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

// checkMessages validates messages the way the API does, including image
// content parts.
func checkMessages(msgs []json.RawMessage) *Failure {
	if len(msgs) == 0 {
		return &Failure{Status: 400, Message: "Missing required parameter: 'messages'.", Param: "messages", Code: "missing_required_parameter"}
	}
	for i, raw := range msgs {
		var m openAIMessage
		if err := json.Unmarshal(raw, &m); err != nil || m.Role == "" {
			return &Failure{Status: 400, Message: fmt.Sprintf("Missing required parameter: 'messages[%d].role'.", i), Param: fmt.Sprintf("messages[%d].role", i), Code: "missing_required_parameter"}
		}
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool", "function":
		default:
			return &Failure{Status: 400, Message: fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", m.Role), Param: fmt.Sprintf("messages[%d].role", i), Code: "invalid_value"}
		}
		if len(m.Content) == 0 || m.Content[0] != '[' {
			continue
		}
		var parts []openAIPart
		if err := json.Unmarshal(m.Content, &parts); err != nil {
			return &Failure{Status: 400, Message: fmt.Sprintf("Invalid type for 'messages[%d].content'.", i), Param: fmt.Sprintf("messages[%d].content", i), Code: "invalid_type"}
		}
		for j, p := range parts {
			param := fmt.Sprintf("messages[%d].content[%d]", i, j)
			switch p.Type {
			case "text", "refusal", "input_audio", "file":
			case "image_url":
				if p.ImageURL == nil || p.ImageURL.URL == "" {
					return &Failure{Status: 400, Message: "Missing required parameter: '" + param + ".image_url'.", Param: param + ".image_url", Code: "missing_required_parameter"}
				}
			default:
				return &Failure{Status: 400, Message: fmt.Sprintf("Invalid value: '%s'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'.", p.Type), Param: param + ".type", Code: "invalid_value"}
			}
		}
	}
	return nil
}

func (s *Server) openAIChat(x *exchange, deployment string) {
	var req openAIChatRequest
	if err := json.Unmarshal(x.req.Body, &req); err != nil {
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", Code: "-"})
		})
		return
	}
	x.req.Model, x.req.Stream = req.Model, req.Stream
	if deployment != "" {
		x.req.Model = deployment
	}
	if x.req.Model == "" {
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "you must provide a model parameter", Code: "-"})
		})
		return
	}
	if f := checkMessages(req.Messages); f != nil {
		x.unscripted(func() { openAIError(x.w, *f) })
		return
	}
	if !s.knownModel(x.req.Model) {
		x.unscripted(func() { openAIModelNotFound(x.w, x.req.Model) })
		return
	}
	if !x.begin() {
		return
	}
	r := x.reply
	if x.failsWhole() {
		openAIError(x.w, *r.Fail)
		return
	}
	model := r.Model
	if model == "" {
		model = x.req.Model
	}
	id := "chatcmpl-" + tail(x.req.ID, 29)
	created := unixNow()
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil, "annotations": []any{}}
		if r.Text != "" {
			msg["content"] = r.Text
		}
		if len(r.ToolCalls) > 0 {
			calls := make([]map[string]any, len(r.ToolCalls))
			for i, tc := range r.ToolCalls {
				calls[i] = map[string]any{
					"id": openAIToolID(tc, x.req.ID, i), "type": "function",
					"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments},
				}
			}
			msg["tool_calls"] = calls
		}
		out := map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"choices": []any{map[string]any{
				"index": 0, "message": msg, "logprobs": nil, "finish_reason": r.finish(),
			}},
			"service_tier": "default", "system_fingerprint": "fp_aitest",
		}
		if !r.NoUsage {
			out["usage"] = openAIUsage(r.Usage)
		}
		writeJSON(x.w, http.StatusOK, out)
		return
	}

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	st := &sse{x: x}
	st.start()
	// Every chunk shares its head and tail; only the delta and the finish
	// reason vary, so the head is encoded once per stream.
	head := map[string]any{
		"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"service_tier": "default", "system_fingerprint": "fp_aitest",
	}
	if includeUsage {
		head["usage"] = nil
	}
	prefix := marshal(head)
	prefix = append(prefix[:len(prefix)-1:len(prefix)-1], `,"choices":[{"index":0,"delta":`...)
	chunkJSON := func(delta []byte, finish any) []byte {
		b := make([]byte, 0, len(prefix)+len(delta)+48)
		b = append(append(b, prefix...), delta...)
		b = append(b, `,"logprobs":null,"finish_reason":`...)
		return append(append(b, marshal(finish)...), "}]}"...)
	}
	send := func(data []byte) bool {
		if st.failing() {
			st.send("", marshal(map[string]any{"error": openAIErrorBody(*r.Fail)}))
			st.dead = true
			return false
		}
		return st.send("", data)
	}
	chunk := func(delta map[string]any, finish any) bool { return send(chunkJSON(marshal(delta), finish)) }
	toolHeader := func(i int) map[string]any {
		tc := r.ToolCalls[i]
		return map[string]any{
			"index": i, "id": openAIToolID(tc, x.req.ID, i), "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": ""},
		}
	}
	role := map[string]any{"role": "assistant", "content": "", "refusal": nil}
	merged := r.Text == "" && len(r.ToolCalls) > 0
	if merged {
		role["content"] = nil
		role["tool_calls"] = []any{toolHeader(0)}
	}
	if !chunk(role, nil) {
		return
	}
	for _, p := range r.textPieces() {
		if !send(chunkJSON(append(append([]byte(`{"content":`), marshal(p)...), '}'), nil)) {
			return
		}
	}
	for i, tc := range r.ToolCalls {
		if !(merged && i == 0) && !chunk(map[string]any{"tool_calls": []any{toolHeader(i)}}, nil) {
			return
		}
		for _, p := range r.argPieces(tc.Arguments) {
			if !chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": p}}}}, nil) {
				return
			}
		}
	}
	if !chunk(map[string]any{}, r.finish()) {
		return
	}
	if includeUsage && !r.NoUsage && !send(marshal(map[string]any{
		"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"service_tier": "default", "system_fingerprint": "fp_aitest",
		"choices": []any{}, "usage": openAIUsage(r.Usage),
	})) {
		return
	}
	send([]byte("[DONE]"))
}

func openAIToolID(tc ToolCall, reqID string, i int) string {
	if tc.ID != "" {
		return tc.ID
	}
	return fmt.Sprintf("call_%s%02d", tail(reqID, 22), i)
}

func openAIUsage(u Usage) map[string]any {
	return map[string]any{
		"prompt_tokens": u.Input, "completion_tokens": u.Output, "total_tokens": u.Input + u.Output,
		"prompt_tokens_details":     map[string]any{"cached_tokens": u.Cached, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": u.Reasoning, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

type openAIEmbeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

// embeddingInputs returns the inputs of an embeddings request: a string,
// strings, a token array or token arrays (each token array as its JSON).
func embeddingInputs(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return many, true
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil && len(tokens) > 0 {
		return []string{string(raw)}, true
	}
	var arrays []json.RawMessage
	if json.Unmarshal(raw, &arrays) == nil && len(arrays) > 0 {
		out := make([]string, len(arrays))
		for i, a := range arrays {
			if json.Unmarshal(a, &tokens) != nil {
				return nil, false
			}
			out[i] = string(a)
		}
		return out, true
	}
	return nil, false
}

func (s *Server) openAIEmbeddings(x *exchange, deployment string) {
	var req openAIEmbeddingsRequest
	if err := json.Unmarshal(x.req.Body, &req); err != nil {
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "We could not parse the JSON body of your request.", Code: "-"})
		})
		return
	}
	x.req.Model = req.Model
	if deployment != "" {
		x.req.Model = deployment
	}
	inputs, ok := embeddingInputs(req.Input)
	switch {
	case x.req.Model == "":
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "you must provide a model parameter", Code: "-"})
		})
		return
	case !ok:
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "'input' is a required property", Param: "input", Code: "-"})
		})
		return
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		x.unscripted(func() {
			openAIError(x.w, Failure{Status: 400, Message: "Invalid value: '" + req.EncodingFormat + "'. Supported values are: 'float' and 'base64'.", Param: "encoding_format", Code: "invalid_value"})
		})
		return
	case !s.knownModel(x.req.Model):
		x.unscripted(func() { openAIModelNotFound(x.w, x.req.Model) })
		return
	}
	if !x.begin() {
		return
	}
	r := x.reply
	if r.Fail != nil {
		openAIError(x.w, *r.Fail)
		return
	}
	model := r.Model
	if model == "" {
		model = x.req.Model
	}
	data := make([]map[string]any, len(inputs))
	for i, in := range inputs {
		vec := r.Embedding
		if vec == nil {
			vec = Vector(in, req.Dimensions)
		}
		var emb any = vec
		if req.EncodingFormat == "base64" {
			b := make([]byte, 4*len(vec))
			for j, f := range vec {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	out := map[string]any{"object": "list", "data": data, "model": model}
	if !r.NoUsage {
		out["usage"] = map[string]any{"prompt_tokens": r.Usage.Input, "total_tokens": r.Usage.Input}
	}
	writeJSON(x.w, http.StatusOK, out)
}

func openAIModelNotFound(w http.ResponseWriter, model string) {
	openAIError(w, Failure{Status: 404, Message: "The model `" + model + "` does not exist or you do not have access to it.", Code: "model_not_found"})
}

// openAIErrorBody is the "error" object; Code "-" forces a null code.
func openAIErrorBody(f Failure) map[string]any {
	status := f.status()
	typ, code, msg := f.Type, f.Code, f.Message
	if typ == "" {
		switch {
		case status == 429:
			typ = "requests"
		case status >= 500:
			typ = "server_error"
		default:
			typ = "invalid_request_error"
		}
	}
	if code == "" {
		switch status {
		case 401:
			code = "invalid_api_key"
		case 404:
			code = "model_not_found"
		case 429:
			code = "rate_limit_exceeded"
		}
	}
	if msg == "" {
		switch {
		case status == 401:
			msg = "Incorrect API key provided."
		case status == 404:
			msg = "The model does not exist or you do not have access to it."
		case status == 429:
			msg = "Rate limit reached for requests. Please try again later."
		case status == 503:
			msg = "The engine is currently overloaded, please try again later"
		case status >= 500:
			msg = "The server had an error while processing your request. Sorry about that!"
		default:
			msg = http.StatusText(status)
		}
	}
	body := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if f.Param != "" {
		body["param"] = f.Param
	}
	if code != "" && code != "-" {
		body["code"] = code
	}
	return body
}

// openAIError writes f as {"error":{"message","type","param","code"}}.
func openAIError(w http.ResponseWriter, f Failure) {
	f.writeHeaders(w, true)
	writeJSON(w, f.status(), map[string]any{"error": openAIErrorBody(f)})
}

// azureError writes Azure's own error shape for gateway-level refusals.
func azureError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
