package idempotency

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxKeyBytes is the longest key accepted.
const maxKeyBytes = 255

// The rules refusals name, as paths in the route's idempotency block.
const (
	ruleRequired = "idempotency.required"
	ruleHeader   = "idempotency.header"
	ruleKey      = "idempotency"
	ruleStore    = "idempotency.on_store_error"
)

// Begin decides x before the upstream is called. It returns:
//
//   - (nil, Continue) when x does not take part: another method, no key
//     (and none required), a body over MaxBodyBytes, or a store failure
//     under fail_open;
//   - (nil, a Denial) for a missing or invalid key, a key in flight (409),
//     a key reused for another request (422) or a store failure under
//     fail_closed (503);
//   - (nil, an Answer) to replay the stored response;
//   - (t, Continue) for the first use of a key: the caller must wrap the
//     response writer with t.Wrap and call t.Finish once, also when the
//     upstream panics.
//
// Every outcome but "another method" records one trace step.
func (g *Gate) Begin(x *pipeline.Exchange) (*Tx, pipeline.Decision) {
	r := x.Request
	if !g.applies(r.Method) {
		return nil, pipeline.Continue()
	}
	vals := r.Header[g.header]
	if len(vals) == 0 {
		if g.required {
			return nil, g.refuse(x, &pipeline.Denial{Code: "idempotency.key_missing", Rule: ruleRequired,
				Reason: "route " + g.route + " requires an " + g.header + " header on " + r.Method + " requests"})
		}
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Note: g.noKeyNote})
		return nil, pipeline.Continue()
	}
	if why := keyProblem(vals); why != "" {
		return nil, g.refuse(x, &pipeline.Denial{Code: "idempotency.key_invalid", Rule: ruleHeader,
			Reason: "the " + g.header + " header " + why})
	}
	key := vals[0]
	body, complete, err := x.Body(g.maxBody)
	if err != nil || !complete {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeSkip, Note: g.bodyNote})
		return nil, pipeline.Continue()
	}

	start := time.Now()
	now := g.now()
	path := x.Path
	if path == "" {
		path = r.URL.Path
	}
	rec := store.IdempotencyRecord{
		Scope:       g.scope + caller(x),
		Key:         key,
		Fingerprint: fingerprint(r.Method, path, r.URL.RawQuery, body),
		Token:       newToken(),
		CreatedAt:   now,
		ExpiresAt:   now.Add(g.lock),
	}
	cur, err := g.store.BeginIdempotent(r.Context(), rec, now)
	if err == nil && cur != nil && cur.Done && cur.Response == nil {
		err = fmt.Errorf("the record of the key in scope %s is done but holds no response", rec.Scope)
	}
	if err != nil {
		return nil, g.storeFailed(x, err, start)
	}
	if cur == nil {
		x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Note: "first use", Duration: time.Since(start)})
		return &Tx{g: g, x: x, scope: rec.Scope, key: key, token: rec.Token}, pipeline.Continue()
	}
	switch {
	case cur.Fingerprint != rec.Fingerprint:
		return nil, g.refuse(x, &pipeline.Denial{Code: "idempotency.key_reused", Rule: ruleKey,
			Reason: fmt.Sprintf("the key was first used %s ago for another method, path or body (fingerprint %.12s…, this request %.12s…)",
				span(cur.CreatedAt, now), cur.Fingerprint, rec.Fingerprint)})
	case !cur.Done:
		return nil, g.refuse(x, &pipeline.Denial{Code: "idempotency.in_progress", Rule: ruleKey,
			Header: http.Header{"Retry-After": {"1"}},
			Reason: fmt.Sprintf("the first request with this key started %s ago and is still in flight; its lock lapses in %s",
				span(cur.CreatedAt, now), span(now, cur.ExpiresAt))})
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Note: "replayed", Duration: time.Since(start)})
	return nil, pipeline.Respond(replay(x.Header(), cur.Response))
}

// refuse records d's deny step and returns the decision; every denial of
// this stage carries the key header's name for its {header} placeholder.
func (g *Gate) refuse(x *pipeline.Exchange, d *pipeline.Denial) pipeline.Decision {
	d.Stage = stageName
	d.Params = map[string]string{"header": g.header}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: d.Code, Rule: d.Rule, Note: d.Reason})
	return pipeline.Deny(d)
}

// storeFailed applies on_store_error to a failed BeginIdempotent.
func (g *Gate) storeFailed(x *pipeline.Exchange, err error, start time.Time) pipeline.Decision {
	g.failed(OpBegin, err)
	if g.failClosed {
		return g.refuse(x, &pipeline.Denial{Code: "idempotency.unavailable", Rule: ruleStore,
			Header: http.Header{"Retry-After": {"1"}},
			Reason: "the idempotency store failed and on_store_error is fail_closed: " + err.Error()})
	}
	x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeError, Rule: ruleStore, Duration: time.Since(start),
		Note: "the idempotency store failed and on_store_error is fail_open, so the request runs without idempotency: " + err.Error()})
	return pipeline.Continue()
}

// replay builds the answer that repeats resp. Headers the gateway already
// set for this request (CORS, rate limits) come first, as they did on
// the original response, followed by the upstream's.
func replay(current http.Header, resp *store.StoredResponse) *pipeline.Answer {
	h := make(http.Header, len(resp.Header)+1)
	for k, vs := range resp.Header {
		if pre := current[k]; len(pre) > 0 {
			vs = append(slices.Clip(pre), vs...)
		}
		h[k] = vs
	}
	h[ReplayedHeader] = []string{"true"}
	return &pipeline.Answer{Status: resp.Status, Header: h, Body: resp.Body}
}

// keyProblem says what is wrong with the key header's lines, or "".
func keyProblem(vals []string) string {
	if len(vals) > 1 {
		return "is sent " + strconv.Itoa(len(vals)) + " times; send it once"
	}
	k := vals[0]
	switch {
	case k == "":
		return "is empty"
	case len(k) > maxKeyBytes:
		return "is " + strconv.Itoa(len(k)) + " bytes long, over 255"
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x21 || c > 0x7e {
			return fmt.Sprintf("holds byte 0x%02x at offset %d, outside visible ASCII", c, i)
		}
	}
	return ""
}

// caller is the part of the scope that names who sent x (see the package
// documentation).
func caller(x *pipeline.Exchange) string {
	id := &x.Identity
	switch {
	case id.Authenticated && id.ConsumerID != "":
		return "consumer:" + id.ConsumerID
	case id.Authenticated:
		return "credential:" + escape(id.Authenticator, ':') + ":" + id.CredentialID
	case x.ClientIP.IsValid():
		return "ip:" + x.ClientIP.Unmap().String()
	}
	return "ip:unknown"
}

// fingerprint is the hex SHA-256 of the request's method, path, raw query
// and body. Each but the last is preceded by its length, so that no two
// different requests hash the same input.
func fingerprint(method, path, query string, body []byte) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, s := range [...]string{method, path, query} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		_, _ = io.WriteString(h, s)
	}
	h.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// newToken draws the token that names this request as the holder of its
// key's record (see store.IdempotencyRecord.Token): 16 random bytes in hex.
// It stays inside Tx; traces and denials never show a token.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b[:])
}

// span is the time from a to b (0 when b is before a), rounded for a
// trace note.
func span(a, b time.Time) time.Duration {
	d := b.Sub(a)
	if d < 0 {
		d = 0
	}
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
