// Package analytics keeps the per-minute roll-ups of finished requests,
// apart from the call log: an Aggregator counts requests in memory and adds
// its counts to the store every flush interval; a Compactor turns closed
// minutes into hour rows and closed hours into day rows and applies each
// level's retention; a Reader answers totals, series and top-N lists over
// any range, merging nodes and levels. Latency percentiles come from
// mergeable sketches (package sketch).
package analytics

import (
	"fmt"
	"time"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Event is one finished request, as the gateway hands it to Record. Its
// strings are kept (as map keys) only when the row is new; the trace is
// read, never kept.
type Event struct {
	// Time is when the request finished; it picks the minute.
	Time time.Time
	// Route is the matched route's name ("(none)" when no route matched).
	Route string
	// Consumer is the consumer id ("" for anonymous callers).
	Consumer string
	// Code, Stage, Layer and Rule describe the refusal or the labelled
	// upstream answer ("" when the request was not refused).
	Code, Stage, Layer, Rule string
	// Status is the HTTP status answered (499 when the client went away).
	Status int
	// Latency is the total time in the gateway.
	Latency time.Duration
	// UpstreamError is true when the upstream failed or answered 5xx.
	UpstreamError bool
	// Trace is the request's decision trace; each would_deny step becomes
	// a would_deny row (its code, stage and rule).
	Trace []pipeline.Step
}

// StatusClass is the class of an HTTP status: 2 for 2xx, 4 for 4xx; 0 for
// statuses outside 100-599.
func StatusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// Labels used in roll-up rows.
const (
	// OtherConsumer stands for the consumers counted beyond max_keys.
	OtherConsumer = "(other)"
)

// QueryError is a query the reader cannot answer as asked (a bad range,
// step or dimension); the admin API answers it with 400.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return "analytics: " + e.Msg }

func queryErrorf(format string, args ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, args...)}
}
