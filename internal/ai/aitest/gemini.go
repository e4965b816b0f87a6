package aitest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// serveGemini answers the Gemini wire under /v1beta and /v1:
// models/{model}:generateContent, :streamGenerateContent (?alt=sse for
// SSE, a streamed JSON array otherwise), :embedContent,
// :batchEmbedContents, :countTokens, and GET models[/{model}].
func (s *Server) serveGemini(x *exchange) {
	version, rest, ok := strings.Cut(strings.TrimPrefix(x.req.Path, "/"), "/")
	if !ok || (version != "v1beta" && version != "v1") || !strings.HasPrefix(rest, "models") {
		x.unscripted(func() { geminiError(x.w, Failure{Status: 404, Message: "Not Found"}) })
		return
	}
	model, method, _ := strings.Cut(strings.TrimPrefix(rest, "models/"), ":")
	if rest != "models" {
		x.req.Model = model
	}
	key := x.r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = x.req.Query.Get("key")
	}
	if present, valid := s.checkKey(key); !valid {
		x.unscripted(func() {
			if !present {
				geminiError(x.w, Failure{Status: 403, Message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."})
				return
			}
			writeJSON(x.w, 400, map[string]any{"error": map[string]any{
				"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
				"details": []any{map[string]any{
					"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
					"domain": "googleapis.com", "metadata": map[string]any{"service": "generativelanguage.googleapis.com"},
				}},
			}})
		})
		return
	}
	if rest == "models" && x.r.Method == http.MethodGet {
		x.unscripted(func() {
			list := []any{}
			for _, m := range s.modelList() {
				list = append(list, geminiModel(m))
			}
			writeJSON(x.w, http.StatusOK, map[string]any{"models": list})
		})
		return
	}
	if method == "" && x.r.Method == http.MethodGet {
		x.unscripted(func() {
			if s.knownModel(model) {
				writeJSON(x.w, http.StatusOK, geminiModel(model))
				return
			}
			geminiError(x.w, Failure{Status: 404, Message: "models/" + model + " is not found for API version " + version + "."})
		})
		return
	}
	if x.r.Method != http.MethodPost {
		x.unscripted(func() { geminiError(x.w, Failure{Status: 404, Message: "Not Found"}) })
		return
	}
	if !s.knownModel(model) {
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 404, Message: "models/" + model + " is not found for API version " + version + ", or is not supported for " + method + ". Call ListModels to see the list of available models and their supported methods."})
		})
		return
	}
	switch method {
	case "generateContent":
		s.geminiGenerate(x, false)
	case "streamGenerateContent":
		x.req.Stream = true
		s.geminiGenerate(x, true)
	case "embedContent", "batchEmbedContents":
		s.geminiEmbed(x, method == "batchEmbedContents")
	case "countTokens":
		if !x.begin() {
			return
		}
		if x.reply.Fail != nil {
			geminiError(x.w, *x.reply.Fail)
			return
		}
		writeJSON(x.w, http.StatusOK, map[string]any{"totalTokens": x.reply.Usage.Input})
	default:
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 400, Message: "Unknown method " + method})
		})
	}
}

func geminiModel(id string) map[string]any {
	return map[string]any{
		"name": "models/" + id, "version": "001", "displayName": id,
		"inputTokenLimit": 1048576, "outputTokenLimit": 65536,
		"supportedGenerationMethods": []string{"generateContent", "countTokens", "embedContent", "batchEmbedContents"},
	}
}

type geminiContent struct {
	Role  string            `json:"role"`
	Parts []json.RawMessage `json:"parts"`
}

type geminiGenerateRequest struct {
	Contents []geminiContent `json:"contents"`
}

func (s *Server) geminiGenerate(x *exchange, stream bool) {
	var req geminiGenerateRequest
	if err := json.Unmarshal(x.req.Body, &req); err != nil {
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 400, Message: "Invalid JSON payload received. " + err.Error()})
		})
		return
	}
	if len(req.Contents) == 0 {
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 400, Message: "* GenerateContentRequest.contents: contents is not specified\n"})
		})
		return
	}
	for _, c := range req.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" && c.Role != "function" {
			x.unscripted(func() { geminiError(x.w, Failure{Status: 400, Message: "Please use a valid role: user, model."}) })
			return
		}
		if len(c.Parts) == 0 {
			x.unscripted(func() {
				geminiError(x.w, Failure{Status: 400, Message: "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"})
			})
			return
		}
	}
	if !x.begin() {
		return
	}
	r := x.reply
	if x.failsWhole() {
		geminiError(x.w, *r.Fail)
		return
	}
	calls := make([]map[string]any, len(r.ToolCalls))
	for i, tc := range r.ToolCalls {
		var args map[string]any
		if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil {
			geminiError(x.w, Failure{Status: 500, Message: "aitest: scripted tool arguments are not a JSON object: " + tc.Arguments})
			return
		}
		calls[i] = map[string]any{"functionCall": map[string]any{"name": tc.Name, "args": args}}
	}
	model := r.Model
	if model == "" {
		model = x.req.Model
	}
	respID := x.req.ID
	// response builds one answer; in a stream, usageMetadata repeats on
	// every chunk and is cumulative (the output count grows to Output on
	// the last one), as Gemini sends it: take the last, never the sum.
	response := func(parts []any, i, n int) map[string]any {
		cand := map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "index": 0}
		u := r.Usage
		out := u.Output * (i + 1) / n
		if i == n-1 {
			cand["finishReason"] = geminiFinish(r)
		}
		usage := map[string]any{
			"promptTokenCount": u.Input, "candidatesTokenCount": out, "totalTokenCount": u.Input + out + u.Reasoning,
			"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": u.Input}},
		}
		if u.Reasoning > 0 {
			usage["thoughtsTokenCount"] = u.Reasoning
		}
		if u.Cached > 0 {
			usage["cachedContentTokenCount"] = u.Cached
			usage["cacheTokensDetails"] = []any{map[string]any{"modality": "TEXT", "tokenCount": u.Cached}}
		}
		return map[string]any{"candidates": []any{cand}, "usageMetadata": usage, "modelVersion": model, "responseId": respID}
	}
	if r.Blocked != "" {
		blocked := map[string]any{
			"promptFeedback": map[string]any{"blockReason": r.Blocked},
			"usageMetadata": map[string]any{"promptTokenCount": r.Usage.Input, "totalTokenCount": r.Usage.Input,
				"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": r.Usage.Input}}},
			"modelVersion": model, "responseId": respID,
		}
		if !stream {
			writeJSON(x.w, http.StatusOK, blocked)
			return
		}
		if x.req.Query.Get("alt") != "sse" {
			writeJSON(x.w, http.StatusOK, []any{blocked})
			return
		}
		st := &sse{x: x, crlf: true}
		st.start()
		st.send("", marshal(blocked))
		return
	}
	if !stream {
		parts := []any{}
		if r.Text != "" {
			parts = append(parts, map[string]any{"text": r.Text})
		}
		for _, c := range calls {
			parts = append(parts, c)
		}
		writeJSON(x.w, http.StatusOK, response(parts, 0, 1))
		return
	}

	// Each streamed response carries one text piece; function calls come
	// whole, in the last response, which also has finishReason.
	var chunks [][]any
	for _, p := range r.textPieces() {
		chunks = append(chunks, []any{map[string]any{"text": p}})
	}
	if len(calls) > 0 {
		last := []any{}
		for _, c := range calls {
			last = append(last, c)
		}
		chunks = append(chunks, last)
	}
	if len(chunks) == 0 {
		chunks = [][]any{{map[string]any{"text": ""}}}
	}
	sseMode := x.req.Query.Get("alt") == "sse"
	st := &sse{x: x, crlf: true}
	if sseMode {
		st.start()
	} else {
		x.w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		x.w.WriteHeader(http.StatusOK)
	}
	for i, parts := range chunks {
		if st.failing() {
			// Gemini has no in-stream error event: the stream breaks.
			st.flush()
			panic(http.ErrAbortHandler)
		}
		data := marshal(response(parts, i, len(chunks)))
		if sseMode {
			if !st.send("", data) {
				return
			}
			continue
		}
		sep := ",\r\n"
		if i == 0 {
			sep = "["
		}
		if !st.raw(append([]byte(sep), data...)) {
			return
		}
	}
	if !sseMode {
		st.raw([]byte("]"))
	}
}

// geminiFinish maps the reply's finish reason to finishReason.
func geminiFinish(r Reply) string {
	switch f := r.finish(); f {
	case "stop", "tool_calls":
		return "STOP"
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	default:
		return f
	}
}

type geminiEmbedRequest struct {
	Content struct {
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"content"`
	OutputDimensionality int `json:"outputDimensionality"`
}

func (r geminiEmbedRequest) text() string {
	var b strings.Builder
	for _, p := range r.Content.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (s *Server) geminiEmbed(x *exchange, batch bool) {
	var reqs []geminiEmbedRequest
	var err error
	if batch {
		var b struct {
			Requests []geminiEmbedRequest `json:"requests"`
		}
		err = json.Unmarshal(x.req.Body, &b)
		reqs = b.Requests
	} else {
		var one geminiEmbedRequest
		err = json.Unmarshal(x.req.Body, &one)
		reqs = []geminiEmbedRequest{one}
	}
	if err != nil {
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 400, Message: "Invalid JSON payload received. " + err.Error()})
		})
		return
	}
	for _, r := range reqs {
		if len(r.Content.Parts) == 0 {
			x.unscripted(func() {
				geminiError(x.w, Failure{Status: 400, Message: "* EmbedContentRequest.content: contents is not specified\n"})
			})
			return
		}
	}
	if len(reqs) == 0 {
		x.unscripted(func() {
			geminiError(x.w, Failure{Status: 400, Message: "* BatchEmbedContentsRequest.requests: requests is not specified\n"})
		})
		return
	}
	if !x.begin() {
		return
	}
	if x.reply.Fail != nil {
		geminiError(x.w, *x.reply.Fail)
		return
	}
	embs := make([]any, len(reqs))
	for i, r := range reqs {
		vec := x.reply.Embedding
		if vec == nil {
			vec = Vector(r.text(), r.OutputDimensionality)
		}
		embs[i] = map[string]any{"values": vec}
	}
	if batch {
		writeJSON(x.w, http.StatusOK, map[string]any{"embeddings": embs})
		return
	}
	writeJSON(x.w, http.StatusOK, map[string]any{"embedding": embs[0]})
}

var geminiStatus = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
	501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}

// geminiError writes {"error":{"code","message","status"}}.
func geminiError(w http.ResponseWriter, f Failure) {
	status := f.status()
	typ, msg := f.Type, f.Message
	if typ == "" {
		typ = geminiStatus[status]
		if typ == "" {
			typ = "UNKNOWN"
		}
	}
	if msg == "" {
		switch status {
		case 429:
			msg = "Resource has been exhausted (e.g. check quota)."
		case 503:
			msg = "The model is overloaded. Please try again later."
		case 500:
			msg = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
		default:
			msg = http.StatusText(status)
		}
	}
	f.writeHeaders(w, false)
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": typ}})
}
