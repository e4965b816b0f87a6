package authz

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

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
	if ct := r.Header.Get("Content-Type"); !pipeline.IsJSON(ct) {
		b.problem = "the body is not JSON (Content-Type " + strconv.Quote(ct) + ")"
		return nil
	}
	// x.Body keeps what it read for the upstream (and the other stages).
	buf, complete, err := x.Body(s.maxBody)
	if !complete && (err == nil || pipeline.IsBodyTooLarge(err)) {
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
		b.problem = "reading the body failed: " + err.Error()
		return nil
	}
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
