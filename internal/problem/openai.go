package problem

import (
	"encoding/json"
	"net/http"
)

// openAIProblem is a problem document that is also an OpenAI error
// answer: the "error" member is what OpenAI's SDKs read (they raise an
// APIError with its message and code); the other members are the RFC
// 9457 problem as Write sends it.
type openAIProblem struct {
	Error openAIError `json:"error"`
	Problem
}

type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// WriteOpenAI sends p like Write, in OpenAI's error shape: {"error":
// {"message", "type", "param", "code"}} beside the problem members, with
// Content-Type application/json (what OpenAI sends and its SDKs expect).
// The message is the problem's detail and hint (its title under Minimal
// disclosure); error.code is the reason code.
func WriteOpenAI(w http.ResponseWriter, r *http.Request, p *Problem, mode Disclosure) {
	out := openAIProblem{Problem: *p}
	switch mode {
	case Minimal:
		out.Stage, out.Detail, out.Hint, out.Errors, out.Trace = "", "", "", nil, nil
	case Standard:
		out.Trace = nil
	}
	msg := out.Detail
	if msg == "" {
		msg = out.Title
	}
	if out.Hint != "" {
		msg += " " + out.Hint
	}
	out.Error = openAIError{Message: msg, Type: OpenAIType(p.Status), Code: p.Code}
	body, err := json.Marshal(&out)
	if err != nil {
		out.Trace, out.Errors = nil, nil
		body, _ = json.Marshal(&out)
	}
	send(w, r, p, "application/json", body)
}

// OpenAIType is the error.type OpenAI uses for an HTTP status.
func OpenAIType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}
