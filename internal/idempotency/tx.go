package idempotency

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Tx is the first use of a key: the request holds the key's in-flight
// record until Finish stores its response or releases the key. The record
// carries a random token drawn by Begin, and Finish acts only on the
// record still holding it: when the lock lapsed and another request took
// the key, a late Finish neither stores over nor releases that request's
// record. A Tx belongs to one request and is not safe for concurrent use.
// Its methods do nothing on a nil Tx, so the gateway may call them
// whatever Begin returned.
type Tx struct {
	g          *Gate
	x          *pipeline.Exchange
	scope, key string
	token      string // names this request as the record's holder
	w          capture
	wrapped    bool
	finished   bool
}

// Wrap returns a writer that passes the response through to w unchanged,
// with nothing buffered in front of the client, and keeps a copy for
// Finish. Call it once, right before the upstream writes; it returns w
// itself on a nil Tx.
func (t *Tx) Wrap(w http.ResponseWriter) http.ResponseWriter {
	if t == nil {
		return w
	}
	t.w.start(w, t.g.maxResp)
	t.wrapped = true
	return &t.w
}

// Finish ends the request's hold on its key, once the upstream is done:
// it stores the captured response for the route's TTL, or releases the key
// so that the client may retry when failed is true (the upstream failed
// without a response, or the handler is unwinding from a panic), nothing
// was written, the status is 500 or more, the body was over
// max_response_bytes, the protocol switched or the response broke off.
//
// It records one trace step and reports store failures to the Observer;
// they do not change the response, which the client already has. ctx's
// cancellation is ignored (a client that went away after its response
// still gets it replayed), its values are kept. Finish must run before
// the exchange is returned to the gateway's pool; later calls do nothing.
func (t *Tx) Finish(ctx context.Context, failed bool) {
	if t == nil || t.finished {
		return
	}
	t.finished = true
	ctx = context.WithoutCancel(ctx)
	start := time.Now()
	if why := t.releaseReason(failed); why != "" {
		t.release(ctx, why, start)
		return
	}
	c := &t.w
	resp := store.StoredResponse{Status: c.status, Header: c.header, Body: c.body}
	if resp.Body == nil {
		resp.Body = []byte{}
	}
	err := t.g.store.CompleteIdempotent(ctx, t.scope, t.key, t.token, resp, t.g.now().Add(t.g.ttl))
	switch {
	case err == nil:
		t.step(pipeline.OutcomePass, start, fmt.Sprintf("stored for replay: status %d, %d body bytes, for %s", c.status, len(c.body), t.g.ttl))
	case errors.Is(err, store.ErrNotFound):
		t.g.failed(OpComplete, err)
		t.step(pipeline.OutcomeError, start, "not stored: the key's lock lapsed before the response was complete (the record is gone, or another request holds the key)")
	default:
		t.g.failed(OpComplete, err)
		t.step(pipeline.OutcomeError, start, "storing the response failed, so the key stays locked until its lock lapses: "+err.Error())
	}
}

// releaseReason says why the response is not kept, or "" to keep it.
func (t *Tx) releaseReason(failed bool) string {
	c := &t.w
	switch {
	case (!t.wrapped || c.status == 0) && failed:
		return "the upstream failed without a response"
	case !t.wrapped || c.status == 0:
		return "no response was written"
	case failed || c.broken:
		return "the response broke off"
	case c.status == http.StatusSwitchingProtocols:
		return "the protocol switched"
	case c.status >= 500:
		return "status " + strconv.Itoa(c.status)
	case c.over:
		return "the response body is over max_response_bytes (" + strconv.FormatInt(t.g.maxResp, 10) + ")"
	}
	return ""
}

// release deletes the in-flight record.
func (t *Tx) release(ctx context.Context, why string, start time.Time) {
	if err := t.g.store.ReleaseIdempotent(ctx, t.scope, t.key, t.token); err != nil {
		t.g.failed(OpRelease, err)
		t.step(pipeline.OutcomeError, start, "releasing the key ("+why+") failed, so it stays locked until its lock lapses: "+err.Error())
		return
	}
	t.step(pipeline.OutcomePass, start, "released, a retry runs again: "+why)
}

func (t *Tx) step(outcome string, start time.Time, note string) {
	s := pipeline.Step{Stage: stageName, Outcome: outcome, Note: note, Duration: time.Since(start)}
	if outcome == pipeline.OutcomeError {
		s.Rule = ruleStore
	}
	t.x.Record(s)
}
