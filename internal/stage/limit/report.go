package limit

import (
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// Canonical names of the headers the stage sets.
const (
	hPolicy    = "Ratelimit-Policy"
	hRateLimit = "Ratelimit"
	hLimit     = "X-Ratelimit-Limit"
	hRemaining = "X-Ratelimit-Remaining"
	hReset     = "X-Ratelimit-Reset"
)

// peekNote ends the trace notes of a simulated request.
const peekNote = " (simulated: evaluated against the current counts; nothing was charged)"

// report writes what a decision leaves behind: the RateLimit headers,
// the would_deny steps of report_only limits, the pass step (for an
// admitted request) and the Observer's calls.
func (r *request) report(d *pipeline.Denial) {
	s, x := r.s, r.x
	r.headers(d)
	obs := s.obs
	if r.peek {
		// A simulation is no decision the metrics should count.
		obs = nil
	}
	notes := r.notes[:0]
	for i := range r.rates {
		l, rr := &s.rates[i], &r.rates[i]
		outcome := pipeline.OutcomeSkip
		switch {
		case rr.st == unavailable && l.enforce:
			outcome = pipeline.OutcomeError
		case rr.st == unavailable:
			outcome = pipeline.OutcomeWouldDeny
			x.Record(pipeline.Step{Stage: stageName, Outcome: outcome, Code: "ratelimit.unavailable", Rule: l.rule,
				Note: r.rateUnavailable(i).Reason})
		case !rr.st.checked():
		case rr.charged:
			outcome = pipeline.OutcomePass
		case rr.fits:
		case l.enforce:
			outcome = pipeline.OutcomeDeny
		default:
			outcome = pipeline.OutcomeWouldDeny
			x.Record(pipeline.Step{Stage: stageName, Outcome: outcome, Code: "ratelimit.exceeded", Rule: l.rule, Note: r.rateReason(i)})
		}
		if rr.st == fellBack {
			notes = append(notes, l.fallbackNote)
			if obs != nil {
				obs.StoreFallback(s.route, l.name)
			}
		}
		if rr.st.checked() && rr.who.kind != l.key.kind && l.notes[rr.who.kind] != "" {
			notes = append(notes, l.notes[rr.who.kind])
		}
		if obs != nil {
			obs.Decision(s.route, l.name, outcome)
		}
	}
	for i := range r.quots {
		q, qr := &s.quotas[i], &r.quots[i]
		outcome := pipeline.OutcomeSkip
		switch {
		case qr.st == unavailable && q.enforce:
			outcome = pipeline.OutcomeError
		case qr.st == unavailable:
			outcome = pipeline.OutcomeWouldDeny
			x.Record(pipeline.Step{Stage: stageName, Outcome: outcome, Code: "quota.unavailable", Rule: q.rule,
				Note: r.quotaUnavailable(i).Reason})
		case qr.st == uncounted:
			outcome = pipeline.OutcomePass
			notes = append(notes, q.fallbackNote)
			if obs != nil {
				obs.StoreFallback(s.route, q.name)
			}
		case qr.st != decided:
		case !qr.fits && q.enforce:
			outcome = pipeline.OutcomeDeny
		case !qr.fits:
			outcome = pipeline.OutcomeWouldDeny
			x.Record(pipeline.Step{Stage: stageName, Outcome: outcome, Code: "quota.exceeded", Rule: q.rule, Note: r.quotaReason(i)})
		case qr.charged:
			outcome = pipeline.OutcomePass
		}
		if qr.st == decided && qr.who.kind != q.key.kind && q.notes[qr.who.kind] != "" {
			notes = append(notes, q.notes[qr.who.kind])
		}
		if obs != nil {
			obs.Decision(s.route, q.name, outcome)
		}
	}
	r.notes = notes
	if d != nil {
		return
	}
	step := pipeline.Step{Stage: stageName, Outcome: pipeline.OutcomePass, Rule: s.passRule}
	switch len(notes) {
	case 0:
	case 1:
		step.Note = notes[0]
	default:
		step.Note = strings.Join(notes, "; ")
	}
	if r.peek {
		step.Note = strings.TrimPrefix(step.Note+peekNote, " ")
	}
	x.Record(step)
}

// headers sets the RateLimit fields for the rate limit that refused the
// request, or else the most constrained one: the fewest requests left,
// then the longest reset.
func (r *request) headers(d *pipeline.Denial) {
	s := r.s
	pick := -1
	var best struct {
		remaining int64
		reset     int64
	}
	for i := range r.rates {
		l, rr := &s.rates[i], &r.rates[i]
		if !rr.st.checked() {
			continue
		}
		if d != nil && d.Code == "ratelimit.exceeded" && d.Rule == l.rule {
			pick = i
			break
		}
		st := l.limit.State(rr.tat, r.ns)
		if pick < 0 || st.Remaining < best.remaining || (st.Remaining == best.remaining && int64(st.Reset) > best.reset) {
			pick, best.remaining, best.reset = i, st.Remaining, int64(st.Reset)
		}
	}
	if pick < 0 {
		return
	}
	l, rr := &s.rates[pick], &r.rates[pick]
	st := l.limit.State(rr.tat, r.ns)
	// One string holds the RateLimit value, the remaining count and the
	// reset, and one slice the four values, so the headers cost two
	// allocations.
	var buf [128]byte
	b := append(buf[:0], l.sfName...)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, st.Remaining, 10)
	b = append(b, ";t="...)
	reset := ceilSeconds(st.Reset)
	b = strconv.AppendInt(b, reset, 10)
	n1 := len(b)
	b = strconv.AppendInt(b, st.Remaining, 10)
	n2 := len(b)
	b = strconv.AppendInt(b, reset, 10)
	v := string(b)
	vals := make([]string, 4)
	vals[0], vals[1], vals[2], vals[3] = v[:n1], l.burst, v[n1:n2], v[n2:]
	h := r.x.Header()
	h[hPolicy] = s.policy
	h[hRateLimit] = vals[0:1:1]
	h[hLimit] = vals[1:2:2]
	h[hRemaining] = vals[2:3:3]
	h[hReset] = vals[3:4:4]
}
