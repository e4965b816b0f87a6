package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Reason codes this package names (all in internal/problem's catalog).
const (
	codeConnectFailed  = "upstream.connect_failed"
	codeDNSFailed      = "upstream.dns_failed"
	codeTLSFailed      = "upstream.tls_failed"
	codeReset          = "upstream.reset"
	codeTimeout        = "upstream.timeout"
	codeBadResponse    = "upstream.bad_response"
	codeNoHealthy      = "upstream.no_healthy_target"
	codeCircuitOpen    = "upstream.circuit_open"
	codeDenied         = "upstream.denied"
	codeRateLimited    = "upstream.rate_limited"
	codeUpstreamError  = "upstream.error"
	codeBodyTooLarge   = "request.body_too_large"
	codeRequestInvalid = "request.malformed"
	codeInternal       = "gateway.internal_error"
)

// stageName is the pipeline stage this package reports as.
const stageName = "upstream"

// OutcomeClientClosed is the trace outcome of an attempt cut short because
// the client went away; kept here as an alias of the pipeline constant.
const OutcomeClientClosed = pipeline.OutcomeClientClosed

// errRouteTimeout is the cancellation cause when Forward.Timeout expires.
var errRouteTimeout = errors.New("route timeout expired before response headers")

// retryClass says which retry rule applies to a failed attempt.
type retryClass uint8

const (
	// classFinal failures are never retried.
	classFinal retryClass = iota
	// classNotSent: the request never reached the target (connect, DNS, TLS).
	classNotSent
	// classReset: the connection broke before any response.
	classReset
	// classAnswered: the target saw the request and answered badly (502,
	// 503, 504, garbage, response-header timeout); only safe methods retry.
	classAnswered
)

// verdict is the judgement of one failed attempt.
type verdict struct {
	code    string // reason code of the denial; "" for a passed-through 5xx or a closed client
	class   retryClass
	blame   bool          // counts against the target's health and the circuit
	closed  bool          // the client went away
	timeout time.Duration // for upstream.timeout's {timeout}
	limit   int64         // for request.body_too_large's {limit}, when known
}

// classify judges the error of a failed attempt. st supplies the contexts
// and the request body's own read error, which tell a slow target, a client
// that went away and an oversized body apart from failures of the target.
func (st *exchangeState) classify(err error) verdict {
	var mbe *http.MaxBytesError
	bodyErr := st.bodyErr()
	switch {
	case errors.Is(err, pipeline.ErrBodyTooLarge) || errors.Is(bodyErr, pipeline.ErrBodyTooLarge):
		return verdict{code: codeBodyTooLarge, limit: st.f.MaxBodyBytes}
	case errors.As(err, &mbe) || errors.As(bodyErr, &mbe):
		return verdict{code: codeBodyTooLarge, limit: mbe.Limit}
	}
	if st.ctx.Err() != nil {
		switch cause := context.Cause(st.ctx); {
		case cause == errRouteTimeout:
			return verdict{code: codeTimeout, class: classFinal, blame: true, timeout: st.timeout}
		case errors.Is(cause, context.DeadlineExceeded):
			return verdict{code: codeTimeout, class: classFinal, timeout: st.timeout}
		default:
			return verdict{closed: true}
		}
	}
	if bodyErr != nil {
		// Reading the client's body failed while the client is still there:
		// a broken upload is the client's doing, not the target's.
		return verdict{code: codeRequestInvalid}
	}
	v := st.u.classifyTransport(err)
	if v.code == codeTimeout && v.timeout == 0 {
		v.timeout = st.timeout
	}
	return v
}

// classifyTransport judges an error returned by the transport itself.
func (u *Upstream) classifyTransport(err error) verdict {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return verdict{code: codeDNSFailed, class: classNotSent, blame: true}
	}
	if isTLSError(err) {
		return verdict{code: codeTLSFailed, class: classNotSent, blame: true}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		// Refused, unreachable, or the connect timeout: all "could not connect".
		return verdict{code: codeConnectFailed, class: classNotSent, blame: true}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return verdict{code: codeTimeout, class: classAnswered, blame: true, timeout: u.responseHeader}
	}
	if isReset(err) {
		return verdict{code: codeReset, class: classReset, blame: true}
	}
	return verdict{code: codeBadResponse, class: classAnswered, blame: true}
}

func isTLSError(err error) bool {
	var (
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return true
	}
	// The transport's handshake timeout and handshake failures have no
	// exported types; their messages are stable parts of crypto/tls and net/http.
	msg := err.Error()
	return strings.Contains(msg, "TLS handshake") || strings.Contains(msg, "tls: ")
}

func isReset(err error) bool {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "server closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.HasPrefix(msg, "http2: ") ||
		strings.Contains(msg, "stream error")
}

// denial builds the refusal for a failed request. Params hold only
// client-safe values; the target address and the raw error go to Reason and
// Rule, which are operator-only.
func (st *exchangeState) denial(v verdict, errText string) *pipeline.Denial {
	f := st.f
	params := map[string]string{"route": f.Route}
	switch v.code {
	case codeTimeout:
		params["timeout"] = v.timeout.String()
	case codeBodyTooLarge:
		if v.limit > 0 {
			params["limit"] = strconv.FormatInt(v.limit, 10)
		}
	case codeRequestInvalid:
		params["reason"] = "the request body could not be read"
	}
	d := &pipeline.Denial{Code: v.code, Stage: stageName, Params: params}
	if t := st.target; t != nil {
		d.Rule = t.display
		d.Reason = "target " + t.display + ": " + errText
	} else {
		d.Reason = errText
	}
	return d
}

// unavailable builds upstream.no_healthy_target or upstream.circuit_open
// with Retry-After in whole seconds (at least 1).
func (u *Upstream) unavailable(code string, f *Forward, wait time.Duration, reason string) *pipeline.Denial {
	secs := int64((wait + time.Second - 1) / time.Second)
	return &pipeline.Denial{
		Code:   code,
		Stage:  stageName,
		Rule:   u.name,
		Params: map[string]string{"route": f.Route},
		Reason: reason,
		Header: http.Header{"Retry-After": {strconv.FormatInt(max(secs, 1), 10)}},
	}
}
