package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// ConfigError is one configuration error as the admin API reports it in the
// errors member of an admin.config_invalid problem.
//
//	{"file": "orders.yaml", "line": 12, "column": 5, "path": "routes[2].upstream", "message": "..."}
type ConfigError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// String formats the error the way config.Error does and `pinpoint
// validate` prints it: "file:line:column: path: message".
func (e ConfigError) String() string { return config.Error(e).Error() }

// configErrors extracts the itemized errors of a rejected configuration, or
// reports false when err is not a configuration error.
func configErrors(err error) ([]ConfigError, bool) {
	var list config.Errors
	if !errors.As(err, &list) {
		// Control's documentation speaks of *config.Errors; accept both.
		var p *config.Errors
		if !errors.As(err, &p) || p == nil {
			return nil, false
		}
		list = *p
	}
	out := make([]ConfigError, len(list))
	for i, e := range list {
		out[i] = ConfigError{File: e.File, Line: e.Line, Column: e.Column, Path: e.Path, Message: e.Message}
	}
	return out, true
}

// writeJSON sends a JSON success body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own response types are marshaled; they always encode.
		panic(fmt.Sprintf("admin: encoding response: %v", err))
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeProblem sends the catalog problem for code, stamped with the
// request's id.
func writeProblem(w http.ResponseWriter, r *http.Request, code string, params map[string]string) {
	writeProblemValue(w, r, problem.New(code, params))
}

func writeProblemValue(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
	p.RequestID = requestID(r.Context())
	problem.Write(w, r, p, problem.Standard)
}

func badRequest(w http.ResponseWriter, r *http.Request, reason string) {
	writeProblem(w, r, "admin.bad_request", map[string]string{"reason": reason})
}

func notFound(w http.ResponseWriter, r *http.Request, what string) {
	writeProblem(w, r, "admin.not_found", map[string]string{"what": what})
}

func configInvalid(w http.ResponseWriter, r *http.Request, list []ConfigError) {
	p := problem.New("admin.config_invalid", map[string]string{"count": strconv.Itoa(len(list))})
	p.Errors = list
	writeProblemValue(w, r, p)
}

func ownedByFile(w http.ResponseWriter, r *http.Request, file string) {
	writeProblem(w, r, "admin.config_owned_by_file", map[string]string{"file": file})
}

// storeFailure logs err server-side and answers 503 without the error text,
// which may name files, hosts or SQL.
func (h *handler) storeFailure(w http.ResponseWriter, r *http.Request, op string, err error) {
	h.log.ErrorContext(r.Context(), "admin: store operation failed",
		"op", op, "request_id", requestID(r.Context()), "error", err)
	writeProblem(w, r, "admin.store_unavailable", nil)
}

// internalError logs err and answers 500 without its text.
func (h *handler) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	h.log.ErrorContext(r.Context(), "admin: operation failed",
		"op", op, "request_id", requestID(r.Context()), "error", err)
	writeProblem(w, r, "gateway.internal_error", nil)
}

// controlFailure answers an error returned by Control.Validate, Apply or
// Rollback: configuration errors are 422, ownership conflicts 409, anything
// else is logged and answered without its text.
func (h *handler) controlFailure(w http.ResponseWriter, r *http.Request, op string, err error) {
	if list, ok := configErrors(err); ok {
		configInvalid(w, r, list)
		return
	}
	var owned *OwnedByFileError
	if errors.As(err, &owned) {
		ownedByFile(w, r, owned.File)
		return
	}
	h.internalError(w, r, op, err)
}

// APIError is a problem answered by the admin API (or a non-problem error
// response, described as a problem).
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Problem is the decoded problem document. For admin.config_invalid its
	// Errors member is a []ConfigError.
	Problem problem.Problem
}

// Error formats the problem as "title: detail (code C, request R)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Problem.Title)
	if e.Problem.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Problem.Detail)
	}
	var meta []string
	if e.Problem.Code != "" {
		meta = append(meta, "code "+e.Problem.Code)
	}
	if e.Problem.RequestID != "" {
		meta = append(meta, "request "+e.Problem.RequestID)
	}
	if len(meta) > 0 {
		b.WriteString(" (" + strings.Join(meta, ", ") + ")")
	}
	return b.String()
}

// ConfigErrors returns the itemized errors of an admin.config_invalid
// problem, or nil.
func (e *APIError) ConfigErrors() []ConfigError {
	list, _ := e.Problem.Errors.([]ConfigError)
	return list
}

func isProblem(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == problem.ContentType
}

// responseError turns an error response into an *APIError.
func responseError(resp *http.Response, body []byte) error {
	e := &APIError{Status: resp.StatusCode}
	if isProblem(resp) {
		var wire struct {
			problem.Problem
			Errors json.RawMessage `json:"errors,omitempty"`
		}
		if err := json.Unmarshal(body, &wire); err == nil {
			e.Problem = wire.Problem
			if len(wire.Errors) > 0 {
				var list []ConfigError
				if e.Problem.Code == "admin.config_invalid" && json.Unmarshal(wire.Errors, &list) == nil {
					e.Problem.Errors = list
				} else {
					var v any
					_ = json.Unmarshal(wire.Errors, &v)
					e.Problem.Errors = v
				}
			}
		}
	}
	if e.Problem.Title == "" {
		e.Problem.Status = resp.StatusCode
		e.Problem.Title = http.StatusText(resp.StatusCode)
		e.Problem.Detail = "unexpected " + strconv.Quote(resp.Header.Get("Content-Type")) + " response from the admin API"
	}
	if e.Problem.RequestID == "" {
		e.Problem.RequestID = resp.Header.Get(requestIDHeader)
	}
	return e
}

// IsNotFound reports whether err is an admin API 404.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
