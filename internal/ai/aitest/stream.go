package aitest

import (
	"encoding/json"
	"net/http"
	"time"
)

// exchange is one request being answered.
type exchange struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	req   *Request
	reply Reply
}

// wait sleeps d, or less when the client goes away or the server closes;
// it reports whether the exchange may go on.
func (x *exchange) wait(d time.Duration) bool {
	if d <= 0 {
		return x.alive()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.r.Context().Done():
		return false
	case <-x.s.done:
		return false
	}
}

func (x *exchange) alive() bool {
	select {
	case <-x.r.Context().Done():
		return false
	case <-x.s.done:
		return false
	default:
		return true
	}
}

// hang blocks until the client goes away or the server closes.
func (x *exchange) hang() {
	select {
	case <-x.r.Context().Done():
	case <-x.s.done:
	}
}

// unscripted records the request and writes an answer that does not come
// from scripting: a refusal of the request itself (bad key, missing
// field, unknown model) or a model list.
func (x *exchange) unscripted(write func()) {
	if x.req.Model == "" && len(x.req.Body) > 0 && x.s.provider != Gemini {
		// Refused before the body was read (bad key, bad path): still
		// count the call against the model it named.
		var peek struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(x.req.Body, &peek) == nil {
			x.req.Model = peek.Model
		}
	}
	x.s.record(x.req)
	write()
}

// begin resolves the reply for the request, records it, and applies
// Delay and Hang. It reports whether an answer should be written.
func (x *exchange) begin() bool {
	x.reply = x.s.resolve(x.req)
	x.req.Reply = x.reply
	x.s.record(x.req)
	if !x.wait(x.reply.Delay) {
		return false
	}
	if x.reply.Hang {
		x.hang()
		return false
	}
	return true
}

// failsWhole tells whether the scripted failure replaces the whole answer
// (as opposed to arriving inside a stream after FailAfter events).
func (x *exchange) failsWhole() bool {
	return x.reply.Fail != nil && (!x.req.Stream || x.reply.FailAfter <= 0)
}

// sse writes one Server-Sent Events stream, applying ChunkDelay,
// CutAfter, StallAfter and FailAfter.
type sse struct {
	x    *exchange
	crlf bool // Gemini frames events with CRLF
	n    int
	dead bool
}

// start sends the stream's headers.
func (st *sse) start() {
	h := st.x.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	st.x.w.WriteHeader(http.StatusOK)
	st.flush()
}

func (st *sse) flush() {
	if f, ok := st.x.w.(http.Flusher); ok {
		f.Flush()
	}
}

// failing tells whether the scripted in-stream failure is due now.
func (st *sse) failing() bool {
	r := st.x.reply
	return r.Fail != nil && r.FailAfter > 0 && st.n >= r.FailAfter
}

// send writes one event (name may be empty) and reports whether the
// stream goes on.
func (st *sse) send(name string, data []byte) bool {
	nl := "\n"
	if st.crlf {
		nl = "\r\n"
	}
	buf := make([]byte, 0, len(data)+len(name)+16)
	if name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, name...)
		buf = append(buf, nl...)
	}
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, nl...)
	buf = append(buf, nl...)
	return st.raw(buf)
}

// raw writes one stream element as is and reports whether the stream
// goes on. At CutAfter it drops the connection; at StallAfter it blocks
// until the client or the server gives up.
func (st *sse) raw(b []byte) bool {
	if st.dead {
		return false
	}
	r := st.x.reply
	if r.CutAfter > 0 && st.n >= r.CutAfter {
		st.flush()
		// ErrAbortHandler makes net/http drop the connection without the
		// terminating chunk: the client sees the stream break.
		panic(http.ErrAbortHandler)
	}
	if r.StallAfter > 0 && st.n >= r.StallAfter {
		st.x.hang()
		st.dead = true
		return false
	}
	if st.n > 0 && !st.x.wait(r.ChunkDelay) {
		st.dead = true
		return false
	}
	// The time is logged before the write so that a client holding the
	// event always finds its time in SentAt.
	log := st.x.req.sent
	log.mu.Lock()
	log.at = append(log.at, time.Now())
	log.mu.Unlock()
	if _, err := st.x.w.Write(b); err != nil {
		st.dead = true
		return false
	}
	st.flush()
	st.n++
	return true
}
