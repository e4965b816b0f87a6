package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Call log query bounds (the store enforces the same).
const (
	defaultCallLimit = 100
	maxCallLimit     = 10000
)

// callJSON is a store.Call with its decision trace and decision inputs
// inline as JSON rather than the base64 encoding/json gives a []byte.
type callJSON struct {
	store.Call
	Trace  json.RawMessage `json:"trace,omitempty"`
	Inputs json.RawMessage `json:"inputs,omitempty"`
}

func callView(c store.Call) callJSON {
	return callJSON{Call: c, Trace: inlineJSON(c.Trace), Inputs: inlineJSON(c.Inputs)}
}

// inlineJSON returns b to embed in an answer: as is when it is JSON (it
// always is when the gateway wrote it), else as a JSON string, so that one
// bad record does not fail the whole answer.
func inlineJSON(b []byte) json.RawMessage {
	switch {
	case len(b) == 0:
		return nil
	case json.Valid(b):
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// callList is the body of GET /admin/calls.
type callList struct {
	Calls []callJSON `json:"calls"`
}

func (h *handler) listCalls(w http.ResponseWriter, r *http.Request) {
	q, err := parseCallQuery(r.URL.Query().Get, time.Now())
	if err != nil {
		badRequest(w, r, err.Error())
		return
	}
	calls, err := h.Store.QueryCalls(r.Context(), q)
	if err != nil {
		h.storeFailure(w, r, "query calls", err)
		return
	}
	out := callList{Calls: make([]callJSON, len(calls))}
	for i, c := range calls {
		out.Calls[i] = callView(c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("request_id")
	calls, err := h.Store.QueryCalls(r.Context(), store.CallQuery{RequestID: id, Limit: 1})
	if err != nil {
		h.storeFailure(w, r, "query calls", err)
		return
	}
	if len(calls) == 0 {
		notFound(w, r, "Call "+strconv.Quote(truncate(id, 100)))
		return
	}
	writeJSON(w, http.StatusOK, callView(calls[0]))
}

// parseCallQuery reads the GET /admin/calls parameters:
//
//	status=404 | 4xx     exact status or status class
//	code=route.not_found reason code
//	route=orders         route name
//	request_id=...       one request
//	since=15m | 2026-01-02T15:04:05Z
//	consumer=ID          records of one consumer
//	after=SEQ            records with a greater sequence number (following)
//	limit=100            1..10000
//	order=asc | desc     by sequence number; default desc (newest first)
func parseCallQuery(get func(string) string, now time.Time) (store.CallQuery, error) {
	q := store.CallQuery{
		Code:      get("code"),
		Route:     get("route"),
		RequestID: get("request_id"),
		Consumer:  get("consumer"),
	}
	if s := get("status"); s != "" {
		var err error
		q.Status, q.StatusClass, err = parseStatus(s)
		if err != nil {
			return q, err
		}
	}
	if s := get("since"); s != "" {
		t, err := ParseSince(s, now)
		if err != nil {
			return q, errors.New("since: " + err.Error())
		}
		q.Since = t
	}
	after, err := intParam(get("after"), 0, 0, 1<<62)
	if err != nil {
		return q, errors.New("after: " + err.Error())
	}
	q.AfterSeq = after
	limit, err := intParam(get("limit"), defaultCallLimit, 1, maxCallLimit)
	if err != nil {
		return q, errors.New("limit: " + err.Error())
	}
	q.Limit = int(limit)
	switch get("order") {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, errors.New("order: must be asc or desc")
	}
	return q, nil
}

// parseStatus reads "404" (exact) or "4xx" (class).
func parseStatus(s string) (status, class int, err error) {
	if len(s) == 3 && strings.EqualFold(s[1:], "xx") && s[0] >= '1' && s[0] <= '5' {
		return 0, int(s[0] - '0'), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, errors.New("status: must be a status code such as 404 or a class such as 4xx")
	}
	return n, 0, nil
}

// ParseSince reads a point in time given as an RFC 3339 timestamp
// ("2026-01-02T15:04:05Z") or as an age relative to now: a Go duration
// ("15m", "1h30m") or a number of days ("7d").
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return time.Time{}, errors.New("want an RFC 3339 time or an age such as 15m, 2h or 7d")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil || d < 0 {
			return time.Time{}, errors.New("want an RFC 3339 time or an age such as 15m, 2h or 7d")
		}
	}
	return now.Add(-d), nil
}
