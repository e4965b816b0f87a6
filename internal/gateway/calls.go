package gateway

import (
	"encoding/json"
	"time"

	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// callRecord builds the call-log record of a finished request. Refused and
// failed requests, and requests a report_only rule would have refused, keep
// their full decision trace; other successful ones keep none.
func (g *Gateway) callRecord(st *state, snap *Snapshot, status int, code, layer string, total time.Duration, wouldDeny bool) store.Call {
	x, rw := &st.x, &st.rw
	r := x.Request
	path := x.Path
	if path == "" {
		path = r.URL.EscapedPath()
	}
	if q := r.URL.RawQuery; q != "" {
		if snap == nil || snap.redactQuery {
			q = calllog.RedactQuery(q)
		}
		path += "?" + q
	}
	c := store.Call{
		Time:            x.Start,
		RequestID:       x.ID,
		Route:           x.Route,
		Method:          r.Method,
		Host:            x.Host,
		Path:            path,
		Status:          status,
		Code:            code,
		Layer:           layer,
		Stage:           st.stage,
		Target:          x.Target,
		Attempts:        x.Attempts,
		Latency:         total,
		UpstreamLatency: x.UpstreamLatency,
		BytesOut:        rw.bytes,
		Revision:        x.Revision,
		ConsumerID:      x.Identity.ConsumerID,
		CredentialID:    x.Identity.CredentialID,
		Inputs:          g.inputs(st, snap),
	}
	if x.ClientIP.IsValid() {
		c.ClientIP = x.ClientIP.String()
	}
	if r.ContentLength > 0 {
		c.BytesIn = r.ContentLength
	}
	if st.code != "" || status >= 500 || status == statusClientClosed || wouldDeny {
		if b, err := json.Marshal(x.Trace); err == nil {
			c.Trace = b
		}
	}
	return c
}
