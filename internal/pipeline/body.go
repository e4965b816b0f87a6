package pipeline

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
)

// requestBody is the part of the request body that stages have read (the
// WAF, validation, idempotency), kept so that each reads it once and the
// upstream still gets every byte.
type requestBody struct {
	buf      []byte
	rest     io.ReadCloser // the unread remainder; nil once complete
	complete bool
	err      error // a read error other than io.EOF, sticky
}

// Body reads the request body up to max bytes and returns what it holds.
// complete is true when buf is the whole body (len(buf) <= max); when the
// body is longer, buf holds at least max+1 bytes and complete is false.
// Later calls reuse what was read and read further only when asked for a
// larger max. The request's Body is replaced so the upstream reads the
// buffered bytes and then the rest; a complete body is also replayable
// through GetBody (for retries).
//
// err is a read error, such as ErrBodyTooLarge when the route's body
// limit cut the body off; buf then holds what was read before it.
func (x *Exchange) Body(max int64) (buf []byte, complete bool, err error) {
	r := x.Request
	b := &x.body
	if b.buf == nil && b.rest == nil && !b.complete {
		if r.Body == nil || r.Body == http.NoBody {
			b.complete = true
			return nil, true, nil
		}
		b.rest = r.Body
		if r.ContentLength > 0 {
			b.buf = make([]byte, 0, min(r.ContentLength, max)+1)
		}
	}
	if b.complete || b.err != nil || int64(len(b.buf)) > max {
		return b.buf, b.complete, b.err
	}
	buf = b.buf
	if buf == nil {
		buf = make([]byte, 0, 512)
	}
	w := bytes.NewBuffer(buf)
	_, rerr := w.ReadFrom(io.LimitReader(b.rest, max+1-int64(len(buf))))
	b.buf = w.Bytes()
	switch {
	case rerr != nil:
		b.err = rerr
	case int64(len(b.buf)) <= max:
		// LimitReader stopped at io.EOF of the body itself.
		b.complete = true
	}
	x.restoreBody()
	return b.buf, b.complete, b.err
}

// BodyRead reports whether a stage has read the body.
func (x *Exchange) BodyRead() bool { return x.body.buf != nil || x.body.complete }

// restoreBody points the request's Body at the buffered bytes, followed
// by the unread rest.
func (x *Exchange) restoreBody() {
	r, b := x.Request, &x.body
	if b.complete {
		if b.rest != nil {
			b.rest.Close()
			b.rest = nil
		}
		buf := b.buf
		r.Body = io.NopCloser(bytes.NewReader(buf))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
		return
	}
	rest := b.rest
	var tail io.Reader = rest
	if b.err != nil {
		tail = errReader{b.err}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b.buf), tail), rest}
	r.GetBody = nil
}

// errReader repeats a read error to the upstream after the buffered bytes.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// IsJSON reports whether a Content-Type is application/json or a +json
// type (application/merge-patch+json, application/vnd.api+json).
func IsJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" {
		return false
	}
	return (strings.EqualFold(typ, "application") && strings.EqualFold(sub, "json")) ||
		(len(sub) > 5 && strings.EqualFold(sub[len(sub)-5:], "+json"))
}

// IsBodyTooLarge reports whether err says the route's body limit was hit.
func IsBodyTooLarge(err error) bool { return errors.Is(err, ErrBodyTooLarge) }
