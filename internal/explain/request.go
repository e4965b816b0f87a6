package explain

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/redact"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// parseInputs decodes a call's decision inputs (pipeline.Inputs, written
// by the gateway); ok is false when there are none or they do not parse.
func parseInputs(b []byte) (in pipeline.Inputs, ok bool) {
	if len(b) == 0 {
		return pipeline.Inputs{}, false
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return pipeline.Inputs{}, false
	}
	return in, in.Method != "" || in.Path != "" || len(in.Header) > 0
}

// header returns the first value of a request header of the inputs.
func header(in *pipeline.Inputs, name string) string {
	for k, vs := range in.Header {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// request is the request as the gateway saw it: the call record's
// normalized host and path, and from the decision inputs (when kept) the
// scheme, the path as received, the query, headers and body. Everything
// passes the redaction policy again, so an explanation never shows more
// than the policy allows, even for records written under an older one.
func request(call store.Call, in pipeline.Inputs, hasInputs bool, pol *redact.Policy) Request {
	path, query, _ := strings.Cut(call.Path, "?")
	r := Request{Method: call.Method, Host: call.Host, Path: path, Query: pol.Query(query), ClientIP: call.ClientIP, Source: "call"}
	if !hasInputs {
		return r
	}
	r.Source = "inputs"
	r.Scheme = in.Scheme
	if r.Method == "" {
		r.Method = in.Method
	}
	if r.Host == "" {
		r.Host = in.Host
	}
	if raw, _, _ := strings.Cut(in.Path, "?"); raw != "" && raw != r.Path {
		r.RawPath = raw
		if r.Path == "" {
			r.Path = raw
		}
	}
	if in.Query != "" {
		r.Query = pol.Query(in.Query)
	}
	if r.ClientIP == "" {
		r.ClientIP = in.ClientIP
	}
	r.Peer, r.PeerTrusted = in.Peer, in.PeerTrusted
	if len(in.Header) > 0 {
		h := make(http.Header, len(in.Header))
		for k, vs := range in.Header {
			h[http.CanonicalHeaderKey(k)] = vs
		}
		r.Headers = pol.Headers(h)
		r.HeadersTruncated = in.HeaderTruncated
	}
	r.BodyBytes = in.BodyBytes
	if len(in.Body) > 0 {
		r.Body = json.RawMessage(pol.JSON(in.Body))
		if !json.Valid(r.Body) {
			r.Body, _ = json.Marshal(redact.Mask)
		}
	}
	r.BodyOmitted = in.BodyOmitted
	return r
}
