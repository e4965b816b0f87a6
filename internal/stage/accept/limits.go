package accept

import (
	"io"
	"net/http"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Limits bound the size of a request; they mirror gateway.limits and a
// route's limits after defaults are applied. A field that is zero or
// negative is not checked by Check and LimitBody (New requires all four).
type Limits struct {
	// MaxBodyBytes caps the request body (gateway.limits.max_body_bytes,
	// default 10 MiB).
	MaxBodyBytes int64
	// MaxHeaderBytes caps the sum of the lengths of all header names and
	// values, Host included (gateway.limits.max_header_bytes, default 64 KiB).
	MaxHeaderBytes int64
	// MaxURIBytes caps the request URI, path and query, as received
	// (gateway.limits.max_uri_bytes, default 8 KiB).
	MaxURIBytes int64
	// MaxHeaderCount caps the number of header fields, Host included; a
	// header repeated on several lines counts once per line
	// (gateway.limits.max_header_count, default 100).
	MaxHeaderCount int
}

// Check refuses a request whose URI, header count, header bytes or declared
// Content-Length exceed l, in that order, with request.uri_too_long (414),
// request.too_many_headers (431), request.header_too_large (431) or
// request.body_too_large (413). It returns nil when the request fits. The
// gateway calls it after routing when a route overrides the limits; it does
// not wrap the body (see LimitBody).
func (l Limits) Check(x *pipeline.Exchange) *pipeline.Denial {
	r := x.Request
	if l.MaxURIBytes > 0 {
		uri := r.RequestURI
		if uri == "" {
			uri = r.URL.RequestURI()
		}
		if n := int64(len(uri)); n > l.MaxURIBytes {
			return sizeDenial("request.uri_too_long", "max_uri_bytes", "request URI", n, l.MaxURIBytes,
				map[string]string{"length": itoa(n), "limit": itoa(l.MaxURIBytes)})
		}
	}
	if l.MaxHeaderCount > 0 || l.MaxHeaderBytes > 0 {
		count, size := headerSize(r)
		if l.MaxHeaderCount > 0 && count > int64(l.MaxHeaderCount) {
			lim := int64(l.MaxHeaderCount)
			return sizeDenial("request.too_many_headers", "max_header_count", "header field count", count, lim,
				map[string]string{"count": itoa(count), "limit": itoa(lim)})
		}
		if l.MaxHeaderBytes > 0 && size > l.MaxHeaderBytes {
			return sizeDenial("request.header_too_large", "max_header_bytes", "header bytes", size, l.MaxHeaderBytes,
				map[string]string{"size": itoa(size), "limit": itoa(l.MaxHeaderBytes)})
		}
	}
	return checkContentLength(r, l.MaxBodyBytes)
}

// LimitBody enforces a body limit of max bytes. A declared Content-Length
// over max is refused at once with request.body_too_large (413), before
// anything is read, so a client waiting on "Expect: 100-continue" never
// sends the body. Otherwise the body is wrapped so that reading past max
// bytes (a chunked body, or one longer than declared) returns
// pipeline.ErrBodyTooLarge, which the upstream stage answers with 413.
//
// Calling it again, e.g. after routing with a route's own limit, replaces
// the limit rather than nesting, so a route may raise the gateway's limit
// as well as lower it. max <= 0 means no limit.
func LimitBody(x *pipeline.Exchange, max int64) *pipeline.Denial {
	r := x.Request
	if d := checkContentLength(r, max); d != nil {
		return d
	}
	if lb, ok := r.Body.(*limitedBody); ok {
		lb.max = max
		return nil
	}
	if max <= 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	r.Body = &limitedBody{rc: r.Body, max: max}
	return nil
}

func checkContentLength(r *http.Request, max int64) *pipeline.Denial {
	if max <= 0 || r.ContentLength <= max {
		return nil
	}
	return sizeDenial("request.body_too_large", "max_body_bytes", "declared Content-Length", r.ContentLength, max,
		map[string]string{"limit": itoa(max), "length": itoa(r.ContentLength)})
}

// sizeDenial builds the denial for a size limit; rule names the config key.
func sizeDenial(code, key, what string, got, limit int64, params map[string]string) *pipeline.Denial {
	return &pipeline.Denial{
		Code:   code,
		Stage:  stageName,
		Rule:   "limits." + key,
		Params: params,
		Reason: what + " " + itoa(got) + " exceeds limits." + key + " " + itoa(limit),
	}
}

// headerSize counts header fields and the bytes of their names and values.
// Go moves Host out of the header map; it is counted back in.
func headerSize(r *http.Request) (count, size int64) {
	for name, values := range r.Header {
		for _, v := range values {
			count++
			size += int64(len(name) + len(v))
		}
	}
	if r.Host != "" {
		count++
		size += int64(len("Host") + len(r.Host))
	}
	return count, size
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// limitedBody returns pipeline.ErrBodyTooLarge once more than max bytes
// have been read. Unlike http.MaxBytesReader it does not need the
// ResponseWriter, and its limit can be replaced after routing.
type limitedBody struct {
	rc  io.ReadCloser
	max int64 // <= 0: no limit
	n   int64 // bytes returned so far
	err error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.max <= 0 {
		n, err := b.rc.Read(p)
		b.n += int64(n)
		return n, err
	}
	if b.n > b.max {
		b.err = pipeline.ErrBodyTooLarge
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte more than allowed, to tell "exactly max" from "more".
	if rest := b.max - b.n + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rc.Read(p)
	if b.n+int64(n) <= b.max {
		b.n += int64(n)
		if err != nil {
			b.err = err
		}
		return n, err
	}
	n = int(b.max - b.n)
	b.n = b.max
	b.err = pipeline.ErrBodyTooLarge
	return n, b.err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
