package idempotency

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// capture is the response writer Tx.Wrap returns: every call goes straight
// to the client's writer, and a copy of the status, the upstream's headers
// and up to max body bytes is kept for the store.
type capture struct {
	http.ResponseWriter
	max    int64
	pre    http.Header // the headers the gateway had set before the upstream
	status int
	header http.Header
	body   []byte
	keep   bool // the body is being copied
	over   bool // the body is longer than max
	broken bool // a write to the client failed
}

var _ http.ResponseWriter = (*capture)(nil)

func (c *capture) start(w http.ResponseWriter, max int64) {
	*c = capture{ResponseWriter: w, max: max, pre: w.Header().Clone()}
}

// WriteHeader implements http.ResponseWriter. Informational responses
// (1xx but 101) pass through without being kept.
func (c *capture) WriteHeader(code int) {
	if c.status == 0 && (code < 100 || code >= 200 || code == http.StatusSwitchingProtocols) {
		c.status = code
		h := c.ResponseWriter.Header()
		c.header = upstreamHeader(h, c.pre)
		c.pre = nil
		c.keep = code < 500 && code != http.StatusSwitchingProtocols
		if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && c.keep {
			if n > c.max {
				c.keep, c.over = false, true
			} else {
				c.body = make([]byte, 0, n)
			}
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	n, err := c.ResponseWriter.Write(p)
	if err != nil {
		c.broken = true
	}
	if c.keep {
		if int64(len(c.body)+n) > c.max {
			c.keep, c.over, c.body = false, true, nil
		} else {
			c.body = append(c.body, p[:n]...)
		}
	}
	return n, err
}

// FlushError flushes the client's writer (http.ResponseController and the
// upstream's writer use it), so streamed responses are not held back.
func (c *capture) FlushError() error {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	var err error
	switch f := c.ResponseWriter.(type) {
	case interface{ FlushError() error }:
		err = f.FlushError()
	case http.Flusher:
		f.Flush()
	default:
		err = http.NewResponseController(c.ResponseWriter).Flush()
	}
	if err != nil {
		c.broken = true
	}
	return err
}

// Flush implements http.Flusher.
func (c *capture) Flush() { _ = c.FlushError() }

// Unwrap lets http.ResponseController reach the client's writer (to
// hijack the connection for an upgrade, or set deadlines).
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// unstored are the response headers a replay never repeats: hop-by-hop
// headers, Date (a replay is a new message) and Set-Cookie (secrets are not
// kept at rest, see the package documentation).
var unstored = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Date":                true,
	"Set-Cookie":          true,
}

// upstreamHeader returns the headers of h worth storing: those not in
// unstored that the upstream added to pre, the gateway's own headers set
// before it was called. A header whose values start with the gateway's
// keeps only the values after them; one the upstream replaced is kept
// whole.
func upstreamHeader(h, pre http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if unstored[k] || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		if p := pre[k]; len(p) > 0 && len(vs) >= len(p) && slices.Equal(vs[:len(p)], p) {
			vs = vs[len(p):]
		}
		if len(vs) > 0 {
			out[k] = slices.Clone(vs)
		}
	}
	return out
}
