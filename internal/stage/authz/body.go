package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// body is the request body as the owner rules see it: read and decoded
// once per request, however many body_field rules there are.
type body struct {
	unread  bool   // over the size limit: refused (or reported) already
	doc     any    // the decoded JSON document
	problem string // why no field can be read, for the trace
}

// loadBody reads and decodes the body for the body_field rules, and puts
// it back for the upstream. It returns a refusal only for a body over the
// limit; other problems (no body, not JSON) are in b.problem and refuse
// each rule with authz.not_owner.
func (s *Stage) loadBody(x *pipeline.Exchange, b *body, o *ownerRule) *pipeline.Denial {
	r := x.Request
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		b.problem = "the request has no body"
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		b.problem = "the body is not JSON (Content-Type " + strconv.Quote(ct) + ")"
		return nil
	}
	buf, err := readBounded(r.Body, s.maxBody, r.ContentLength)
	if int64(len(buf)) > s.maxBody || errors.Is(err, pipeline.ErrBodyTooLarge) {
		// The upstream still gets every byte: what was read, then the rest.
		restore(r, buf, r.Body)
		b.unread = true
		return &pipeline.Denial{
			Code:   "request.body_too_large",
			Rule:   o.rule,
			Params: map[string]string{"limit": strconv.FormatInt(s.maxBody, 10)},
			Reason: o.rule + ": body_field " + o.field + " needs the body, which exceeds " +
				strconv.FormatInt(s.maxBody, 10) + " bytes",
		}
	}
	if err != nil {
		restore(r, buf, r.Body)
		b.problem = "reading the body failed: " + err.Error()
		return nil
	}
	restore(r, buf, nil)
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.UseNumber()
	if err := dec.Decode(&b.doc); err != nil {
		b.problem = "the body is not valid JSON: " + err.Error()
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		b.doc, b.problem = nil, "the body has data after its JSON value"
	}
	return nil
}

// field returns the rule's body field as a string, or why it has none.
func (b *body) field(o *ownerRule) (string, string) {
	if b.problem != "" {
		return "", b.problem
	}
	v, ok := o.ptr.lookup(b.doc)
	if !ok {
		return "", "body field " + o.field + " is missing"
	}
	s, ok := scalar(v)
	if !ok {
		return "", "body field " + o.field + " is " + kindOf(v)
	}
	return s, ""
}

// readBounded reads at most max+1 bytes of rc, so a body over the limit is
// detected without reading all of it.
func readBounded(rc io.Reader, max, declared int64) ([]byte, error) {
	size := int64(512)
	if declared > 0 {
		size = min(declared, max) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(rc, max+1))
	return buf.Bytes(), err
}

// restore gives the request its body back after the stage read buf from
// it. A complete read is replayable (GetBody); after a partial read the
// upstream reads buf and then the rest of rest.
func restore(r *http.Request, buf []byte, rest io.ReadCloser) {
	if rest == nil {
		r.Body = io.NopCloser(bytes.NewReader(buf))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
		return
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), rest), rest}
	r.GetBody = nil
}

// isJSON reports whether a Content-Type is application/json or a +json
// type (application/merge-patch+json, application/vnd.api+json).
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" {
		return false
	}
	return (strings.EqualFold(typ, "application") && strings.EqualFold(sub, "json")) ||
		(len(sub) > 5 && strings.EqualFold(sub[len(sub)-5:], "+json"))
}
