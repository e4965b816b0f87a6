package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// responseWriter records what the gateway and the upstream wrote, and stamps
// the request id on every response right before its headers go out (so a
// backend's own X-Request-Id can never disagree with ours).
type responseWriter struct {
	http.ResponseWriter
	idHeader    string
	id          string
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseWriter) reset(inner http.ResponseWriter, idHeader string) {
	*w = responseWriter{ResponseWriter: inner, idHeader: idHeader}
}

// WriteHeader implements http.ResponseWriter. 1xx informational responses
// other than 101 pass through without ending the header phase.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.Header().Set(w.idHeader, w.id)
	w.status = code
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher so streamed responses are not buffered.
func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

// FlushError flushes and reports failure (used by http.ResponseController).
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker for protocol upgrades (WebSocket).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("gateway: connection cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err == nil && !w.wroteHeader {
		w.Header().Set(w.idHeader, w.id)
		w.status = http.StatusSwitchingProtocols
		w.wroteHeader = true
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
