package problem

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ContentType is the media type of every problem body (RFC 9457).
const ContentType = "application/problem+json"

// Header names that carry the code and layer for HEAD requests and log scrapers.
const (
	HeaderCode  = "Pinpoint-Code"
	HeaderLayer = "Pinpoint-Layer"
)

// Disclosure says how much of a refusal the caller is told.
type Disclosure int

const (
	// Standard (the default) adds the client-safe detail and hint.
	Standard Disclosure = iota
	// Minimal keeps type, title, status, code, layer, request_id and decision_token.
	Minimal
	// Debug adds the full decision trace; only for callers with an operator debug credential.
	Debug
)

// ParseDisclosure reads "minimal", "standard" or "debug"; "" is Standard.
func ParseDisclosure(s string) (Disclosure, error) {
	switch s {
	case "", "standard":
		return Standard, nil
	case "minimal":
		return Minimal, nil
	case "debug":
		return Debug, nil
	}
	return Standard, fmt.Errorf("unknown disclosure %q (want minimal, standard or debug)", s)
}

func (d Disclosure) String() string {
	switch d {
	case Minimal:
		return "minimal"
	case Debug:
		return "debug"
	}
	return "standard"
}

// Problem is one RFC 9457 problem document as Pinpoint writes it.
type Problem struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Code          string `json:"code"`
	Layer         string `json:"layer"`
	Stage         string `json:"stage,omitempty"`
	Detail        string `json:"detail,omitempty"`
	Hint          string `json:"hint,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	DecisionToken string `json:"decision_token,omitempty"`
	// Errors lists itemized errors, e.g. every config error of a rejected apply.
	Errors any `json:"errors,omitempty"`
	// Trace is the decision trace, present only with Debug disclosure.
	Trace any `json:"trace,omitempty"`
}

// TypeURI returns the problem type URI of a code.
func TypeURI(code string) string { return "urn:pinpoint:problem:" + code }

// New builds the problem for code with its detail and hint templates filled
// from params. An unknown code is a programming error and yields
// gateway.internal_error so that the caller still gets a well-formed answer.
func New(code string, params map[string]string) *Problem {
	c, ok := byCode[code]
	if !ok {
		c = byCode["gateway.internal_error"]
	}
	return &Problem{
		Type:   TypeURI(c.Code),
		Title:  c.Title,
		Status: c.Status,
		Code:   c.Code,
		Layer:  c.Layer,
		Stage:  c.Stage,
		Detail: Expand(c.Detail, params),
		Hint:   Expand(c.Hint, params),
	}
}

// Expand replaces {name} placeholders in tpl with params[name]. A placeholder
// without a value is replaced by "unknown" so no template syntax leaks out.
func Expand(tpl string, params map[string]string) string {
	if strings.IndexByte(tpl, '{') < 0 {
		return tpl
	}
	var b strings.Builder
	b.Grow(len(tpl) + 32)
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		if v, ok := params[tpl[i+1:i+j]]; ok {
			b.WriteString(v)
		} else {
			b.WriteString("unknown")
		}
		tpl = tpl[i+j+1:]
	}
}

// Placeholders returns the {names} used in tpl, in order.
func Placeholders(tpl string) []string {
	var out []string
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, tpl[i+1:i+j])
		tpl = tpl[i+j+1:]
	}
}

// Write sends p with the given disclosure. It sets Content-Type, the
// Pinpoint-Code and Pinpoint-Layer headers and the status; headers the caller
// set before (Allow, WWW-Authenticate, Retry-After, X-Request-Id) are kept.
// HEAD requests get the headers only.
func Write(w http.ResponseWriter, r *http.Request, p *Problem, mode Disclosure) {
	out := *p
	switch mode {
	case Minimal:
		out.Stage, out.Detail, out.Hint, out.Errors, out.Trace = "", "", "", nil, nil
	case Standard:
		out.Trace = nil
	}
	body, err := json.Marshal(&out)
	if err != nil {
		// Only a Trace or Errors value of our own making can fail to marshal.
		out.Trace, out.Errors = nil, nil
		body, _ = json.Marshal(&out)
	}
	send(w, r, p, ContentType, body)
}

// send writes a problem body with its headers and status; HEAD requests
// get the headers only.
func send(w http.ResponseWriter, r *http.Request, p *Problem, contentType string, body []byte) {
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(HeaderCode, p.Code)
	h.Set(HeaderLayer, p.Layer)
	w.WriteHeader(p.Status)
	if r != nil && r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
