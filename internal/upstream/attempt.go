package upstream

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// drainLimit is how much of a discarded (retried) response body is read so
// that its connection can go back to the pool.
const drainLimit = 4 << 10

// attemptTransport is the ReverseProxy's transport. It sends the request to
// the picked target and, when the attempt fails in a way the retry rules
// allow, to other targets — all before ReverseProxy writes anything, so a
// retried failure never reaches the client.
type attemptTransport struct{ u *Upstream }

func (a attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := a.u
	st := stateOf(req.Context())
	if st == nil {
		return u.transport.RoundTrip(req)
	}
	for {
		t := st.target
		begin := time.Now()
		resp, err := u.transport.RoundTrip(req)
		end := time.Now()
		st.x.Attempts++
		st.x.Target = t.hostport
		st.x.UpstreamLatency = end.Sub(st.start)

		if err == nil && !failedStatus(resp.StatusCode) {
			st.timer.Stop()
			u.passiveSuccess(t)
			st.result = resultSuccess
			st.x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: t.display,
				Note: statusNote(resp.StatusCode), Duration: end.Sub(begin)})
			return resp, nil
		}

		var v verdict
		var note string
		if err != nil {
			v = st.classify(err)
			note = err.Error()
		} else {
			v = verdict{class: classAnswered, blame: true}
			note = statusNote(resp.StatusCode)
		}
		if v.blame {
			u.passiveFailure(t, end, note)
		}
		next := u.nextTarget(st, v)
		step := pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeError, Code: v.code,
			Rule: t.display, Note: note, Duration: end.Sub(begin)}
		switch {
		case v.closed:
			step.Outcome = OutcomeClientClosed
		case resp != nil:
			step.Code = codeUpstreamError
		case next == nil:
			step.Outcome = pipeline.OutcomeDeny
		}
		st.x.Record(step)

		if next == nil {
			if v.blame {
				st.result = resultFailure
			}
			if resp != nil {
				// The target's own 502/503/504 goes to the client as it is.
				st.timer.Stop()
				return resp, nil
			}
			st.failed, st.failErr = &v, note
			return nil, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
			_ = resp.Body.Close()
		}
		t.inflight.Add(-1)
		next.inflight.Add(1)
		st.target = next
		st.tried = append(st.tried, next)
		req = st.retarget(req, next)
	}
}

// failedStatus reports the answers that count as a failure of the target:
// it is up but cannot serve (502, 503, 504).
func failedStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// nextTarget applies the retry rules to a failed attempt and returns the
// target to try next, or nil to stop. A retry needs a retryable request
// (an idempotent method, the route's key header — Forward.KeyHeader,
// default Idempotency-Key — or an idempotent route) whose body can be sent
// again; failures after the target saw the request (a 502/503/504,
// garbage, a response-header timeout) are retried only for GET, HEAD and
// OPTIONS or on idempotent routes. Retries go to targets not yet tried,
// within retry.attempts and the retry budget.
func (u *Upstream) nextTarget(st *exchangeState, v verdict) *target {
	if !st.retryable || st.retries >= u.retries || v.closed {
		return nil
	}
	switch v.class {
	case classNotSent, classReset:
	case classAnswered:
		if !st.safe {
			return nil
		}
	default:
		return nil
	}
	if st.ctx.Err() != nil {
		return nil
	}
	next := u.bal.pick(st.x, time.Now().UnixNano(), st.tried)
	if next == nil || !u.budget.tryRetry() {
		return nil
	}
	st.retries++
	return next
}

// retarget copies req for another target, with a fresh copy of the body.
func (st *exchangeState) retarget(req *http.Request, t *target) *http.Request {
	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	setTargetURL(r.URL, t, st.path)
	if st.body != nil {
		r.Body = io.NopCloser(bytes.NewReader(st.body))
	}
	return r
}

// proxyError is ReverseProxy's ErrorHandler. It writes nothing: Serve turns
// the failure into a Denial and the gateway writes the problem.
func (u *Upstream) proxyError(_ http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r.Context())
	if st == nil {
		u.log.Error("proxy error outside Serve", "error", err.Error())
		return
	}
	if st.rw.wrote {
		// The response (or a protocol switch) had started; nothing can be
		// sent any more and the client connection is dropped.
		u.log.Debug("upstream exchange broke off after the response started",
			"request_id", st.x.ID, "target", st.target.display, "error", err.Error())
		return
	}
	if st.failed == nil {
		// RoundTrip returned a 101 that could not be used: the backend
		// switched to another protocol than asked (its fault), or the
		// client connection cannot be taken over (the gateway's).
		v := verdict{code: codeInternal}
		if msg := err.Error(); strings.HasPrefix(msg, "backend ") || strings.Contains(msg, "101 switching protocols") {
			v = verdict{code: codeBadResponse, blame: true}
			st.result = resultFailure
			u.passiveFailure(st.target, time.Now(), err.Error())
		} else {
			st.result = resultNeutral
		}
		st.failed, st.failErr = &v, err.Error()
		st.x.Record(pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomeDeny, Code: v.code,
			Rule: st.target.display, Note: err.Error()})
	}
}

// statusNotes are the trace notes for upstream statuses, built once so that
// recording a step does not allocate.
var statusNotes = func() (n [600]string) {
	for code := range n {
		if code >= 100 {
			n[code] = "status " + strconv.Itoa(code)
		}
	}
	return n
}()

func statusNote(code int) string {
	if code >= 100 && code < len(statusNotes) {
		return statusNotes[code]
	}
	return "status " + strconv.Itoa(code)
}
