package ai

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/pinpointgw/pinpoint/internal/ai/meter"
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/tokens"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxAnswer bounds a complete (non-streamed) provider answer.
const maxAnswer = 64 << 20

// maxErrorBody bounds what is read of a provider's error answer.
const maxErrorBody = 64 << 10

// call is one caller request on its way through the targets.
type call struct {
	e  *Endpoint
	x  *pipeline.Exchange
	w  http.ResponseWriter
	op provider.Op
	m  *model
	// body is the caller's request; model the name it sent (once
	// admitted); f what the gateway read of the body.
	body  []byte
	model string
	f     fields
	// stream is "stream": true; includeUsage whether the caller asked for
	// the usage chunk.
	stream, includeUsage bool
	rules                []*rule
	res                  *meter.Reservation
	rec                  store.AIUsageRecord
	// served is the target that answered; its price bills the call.
	served *target
	// started is set once a byte of the answer went to the caller.
	started bool
	// firstToken is when the first chunk (or the answer) was written.
	firstToken time.Time
	// promptAnswer is the completion a prompt API call got.
	promptAnswer []byte
}

// serveCall runs a chat completion or embeddings request.
func (e *Endpoint) serveCall(w http.ResponseWriter, x *pipeline.Exchange, op provider.Op) *pipeline.Denial {
	body, complete, err := x.Body(e.maxBody)
	if err != nil && !pipeline.IsBodyTooLarge(err) {
		return invalid(op, "the request body could not be read")
	}
	if !complete || pipeline.IsBodyTooLarge(err) {
		return &pipeline.Denial{Code: "request.body_too_large", Stage: "ai",
			Params: map[string]string{"limit": strconv.FormatInt(e.maxBody, 10)}, Reason: "AI request body over the route's limit"}
	}
	c := &call{e: e, x: x, w: w, op: op, body: body}
	if dn := c.parse(); dn != nil {
		return dn
	}
	return c.run()
}

func invalid(op provider.Op, reason string) *pipeline.Denial {
	name := "chat completions"
	if op == provider.Embeddings {
		name = "embeddings"
	}
	return &pipeline.Denial{Code: "ai.request_invalid", Params: map[string]string{"operation": name, "reason": reason},
		Header: noRetry(), Reason: reason}
}

// fields is what the gateway reads of a request body. Its strings point
// into the body.
type fields struct {
	model                string
	modelOK              bool // "model" is a non-empty string
	stream, includeUsage bool
	messages             bool // "messages" is a non-empty array
	input                bool // "input" is present and not null
	maxTokens, n         int64
}

// scan reads the fields in one pass over the body's top-level members
// (gjson.GetMany would scan the body once per path); body must be a
// valid JSON object.
func scan(body []byte) fields {
	var f fields
	maxCompletion := int64(0)
	gjson.Parse(unsafeString(body)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			f.model, f.modelOK = v.Str, v.Type == gjson.String && v.Str != ""
		case "stream":
			f.stream = v.Type == gjson.True
		case "stream_options":
			f.includeUsage = v.Get("include_usage").Type == gjson.True
		case "messages":
			f.messages = v.IsArray() && firstByte(v.Raw[1:]) != ']'
		case "input":
			f.input = v.Exists() && v.Type != gjson.Null
		case "max_tokens":
			if v.Type == gjson.Number {
				f.maxTokens = v.Int()
			}
		case "max_completion_tokens":
			if v.Type == gjson.Number {
				maxCompletion = v.Int()
			}
		case "n":
			f.n = v.Int()
		}
		return true
	})
	if maxCompletion > 0 {
		f.maxTokens = maxCompletion
	}
	return f
}

// parse reads what the gateway needs of the request and checks the
// model and the caller's access to it.
func (c *call) parse() *pipeline.Denial {
	if firstByte(unsafeString(c.body)) != '{' || !gjson.ValidBytes(c.body) {
		return invalid(c.op, "the body is not a JSON object")
	}
	f := scan(c.body)
	if !f.modelOK {
		return invalid(c.op, `"model" is missing or not a string`)
	}
	c.f = f
	switch c.op {
	case provider.Chat:
		if !f.messages {
			return invalid(c.op, `"messages" must be a non-empty array`)
		}
		c.stream, c.includeUsage = f.stream, f.includeUsage
	case provider.Embeddings:
		if !f.input {
			return invalid(c.op, `"input" is missing`)
		}
		if f.stream {
			return invalid(c.op, "embeddings cannot be streamed")
		}
	}
	return c.admit()
}

// admit resolves the model and applies the access rules.
func (c *call) admit() *pipeline.Denial {
	s := c.e.s
	m := s.models[c.f.model]
	if m == nil || !c.e.serves(m.name) {
		name := strings.Clone(c.f.model) // c.f.model points into the body
		return modelUnknown(name, "model "+strconv.Quote(name)+" is not in ai.models or not served by route "+c.e.route)
	}
	// The model's own name, not a view of the body: the usage record
	// outlives the request.
	c.model = m.name
	if m.embed != (c.op == provider.Embeddings) {
		want := "a chat"
		if m.embed {
			want = "an embedding"
		}
		return modelUnknown(c.model, "model "+strconv.Quote(c.model)+" is "+want+" model, not for "+c.op.String())
	}
	c.m = m
	who := callerOf(&c.x.Identity)
	c.rules = s.rulesFor(&who)
	if r := deniedBy(c.rules, c.model); r != nil {
		return modelNotAllowed(c.model, r)
	}
	c.rec = store.AIUsageRecord{
		Time: c.x.Start, RequestID: c.x.ID, Route: c.x.Route, Revision: c.x.Revision,
		ConsumerID: who.consumer, TenantID: who.tenant, CredentialID: who.credential,
		Op: c.op.String(), Model: c.model, Stream: c.stream,
	}
	if c.x.Simulation != nil {
		return nil
	}
	var limits [4]meter.Limit
	ls := limits[:0]
	reserve := int64(0)
	for _, r := range c.rules {
		if !r.meters() {
			continue
		}
		ls = append(ls, meter.Limit{Rule: r.name, Key: r.counterKey(&who), TokensPerMinute: r.tpm, Daily: r.daily, Monthly: r.monthly})
		reserve = max(reserve, r.reserve)
	}
	if len(ls) == 0 {
		return nil
	}
	ask := c.estimate(reserve)
	res, ref := s.meter.Reserve(ls, ask)
	if ref != nil {
		c.x.Record(pipeline.Step{Stage: "ai", Outcome: pipeline.OutcomeDeny, Rule: "ai.access." + ref.Rule,
			Note: "reservation of " + strconv.FormatInt(ask.Tokens, 10) + " tokens / " + ask.Cost.String() + " USD refused"})
		return meterDenial(ref)
	}
	c.res = res
	return nil
}

// estimate is what a call may use at most, for the reservation: its
// prompt at one token per 4 bytes of request body (an upper bound for
// text, which averages about 4 bytes per token) and its output at
// max_tokens, or the rules' reserve when it sets none.
func (c *call) estimate(reserve int64) meter.Ask {
	in := int64(len(c.body)+3) / 4
	out := int64(0)
	if c.op == provider.Chat {
		out = reserve
		if c.f.maxTokens > 0 {
			out = c.f.maxTokens
		}
		if c.f.n > 1 {
			out *= c.f.n
		}
	}
	ask := meter.Ask{Tokens: in + out}
	if c.m.priced {
		ask.Cost = pricing.Cost(c.m.maxPrice, pricing.Usage{Input: in, Output: out})
	}
	return ask
}

// run tries the targets in order until one answers.
func (c *call) run() *pipeline.Denial {
	if c.x.Simulation != nil {
		t := c.m.groups[0][0]
		c.x.Record(pipeline.Step{Stage: "ai", Outcome: pipeline.OutcomeSkip, Rule: t.b.name + "/" + t.model,
			Note: "simulated: the provider is not called and nothing is counted"})
		return nil
	}
	defer c.settle()
	var (
		attempts, denied int
		lastError        *provider.Error
	)
	for _, group := range c.m.groups {
		for _, t := range ordered(group) {
			attempts++
			t0 := time.Now()
			perr := c.attempt(t)
			c.e.s.metrics.attempt(t.b.name, perr)
			note := "ok"
			outcome := pipeline.OutcomePass
			if perr != nil {
				note, outcome = perr.Error(), pipeline.OutcomeError
			}
			c.x.Record(pipeline.Step{Stage: "ai", Outcome: outcome, Rule: t.b.name + "/" + t.model, Note: note, Duration: time.Since(t0)})
			c.x.Attempts = attempts
			c.rec.Attempts = attempts
			if perr == nil || c.started || c.x.Request.Context().Err() != nil {
				// Answered, or the caller went away: no other target.
				return nil
			}
			if !perr.Kind.Retryable() {
				c.writeProviderError(perr)
				return nil
			}
			if perr.Kind == provider.Denied {
				denied++
			}
			lastError = perr
		}
	}
	params := map[string]string{"model": c.model, "attempts": strconv.Itoa(attempts)}
	if denied > 0 && denied == attempts {
		c.fail("ai.provider_denied", http.StatusBadGateway)
		return &pipeline.Denial{Code: "ai.provider_denied", Params: params, Header: noRetry(),
			Reason: "every target refused the gateway's credentials; the last: " + lastError.Error()}
	}
	dn := &pipeline.Denial{Code: "ai.provider_unavailable", Params: params, Reason: "every target failed"}
	if lastError != nil {
		dn.Reason += "; the last: " + lastError.Error()
		if lastError.RetryAfter > 0 {
			dn.Header = http.Header{"Retry-After": {strconv.FormatInt(int64(max(lastError.RetryAfter/time.Second, 1)), 10)}}
		}
	}
	c.fail("ai.provider_unavailable", http.StatusServiceUnavailable)
	return dn
}

// ordered returns a group's targets in the order to try them: one picked
// by weight first, then the rest by weight among the remaining.
func ordered(group []target) []target {
	if len(group) == 1 {
		return group
	}
	out := make([]target, len(group))
	copy(out, group)
	for i := range out {
		total := 0
		for _, t := range out[i:] {
			total += t.weight
		}
		n := rand.IntN(total)
		for j := i; j < len(out); j++ {
			n -= out[j].weight
			if n < 0 {
				out[i], out[j] = out[j], out[i]
				break
			}
		}
	}
	return out
}

// attempt calls one target. It returns nil once the answer was written
// to the caller (or the caller went away), or the failure.
func (c *call) attempt(t target) *provider.Error {
	b := t.b
	if b.sem != nil {
		select {
		case b.sem <- struct{}{}:
			defer func() { <-b.sem }()
		default:
			return &provider.Error{Kind: provider.Server, Message: "max_concurrency of " + strconv.Itoa(cap(b.sem)) + " calls reached"}
		}
	}
	body := c.body
	if t.model != c.model {
		if edited, err := sjson.SetBytes(body, "model", t.model); err == nil {
			body = edited
		}
	}
	if c.stream && !c.includeUsage {
		if edited, err := sjson.SetBytes(body, "stream_options.include_usage", true); err == nil {
			body = edited
		}
	}
	pc := &provider.Call{Op: c.op, Body: body, Model: t.model, Stream: c.stream}

	ctx, cancel := context.WithCancel(c.x.Request.Context())
	defer cancel()
	var timedOut atomic.Bool
	timer := time.AfterFunc(b.timeout, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()

	req, err := b.p.Request(ctx, pc)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			return pe
		}
		return &provider.Error{Kind: provider.Server, Message: "building the request: " + err.Error()}
	}
	t0 := time.Now()
	resp, err := b.rt.RoundTrip(req)
	if err != nil {
		return transportError(err, &timedOut, c.x.Request.Context())
	}
	defer resp.Body.Close()
	c.x.UpstreamStatus = resp.StatusCode
	c.x.Target = b.name + "/" + t.model
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		eb, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		c.x.UpstreamLatency = time.Since(t0)
		pe := b.p.Failure(resp.StatusCode, resp.Header, eb)
		if pe == nil {
			pe = &provider.Error{Kind: provider.Server, Status: resp.StatusCode, Message: "HTTP " + strconv.Itoa(resp.StatusCode)}
		}
		return pe
	}
	c.rec.Provider, c.rec.ProviderModel = b.name, t.model
	if c.stream {
		return c.relay(t, pc, resp, timer, &timedOut, t0)
	}
	ans, err := readAnswer(resp)
	c.x.UpstreamLatency = time.Since(t0)
	if err != nil {
		return transportError(err, &timedOut, c.x.Request.Context())
	}
	r, err := b.p.Decode(pc, ans)
	if err != nil {
		return &provider.Error{Kind: provider.Server, Status: resp.StatusCode, Message: "undecodable answer: " + err.Error()}
	}
	if !r.HasUsage {
		r.Usage, c.rec.Estimated = c.countComplete(t.model, r.Body), true
		r.Body = c.withUsage(r.Body, r.Usage)
	}
	c.served = &t
	c.account(r.Usage)
	c.firstToken = time.Now()
	c.started = true
	c.rec.Status = http.StatusOK
	if c.e.api == APIPrompts {
		c.promptAnswer = r.Body
		return nil
	}
	writeJSON(c.w, http.StatusOK, r.Body)
	return nil
}

// readAnswer reads a complete answer: in one allocation when its length
// is known, at most maxAnswer bytes.
func readAnswer(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxAnswer {
		b := make([]byte, n)
		_, err := io.ReadFull(resp.Body, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
}

// transportError classifies a failed exchange with a provider.
func transportError(err error, timedOut *atomic.Bool, client context.Context) *provider.Error {
	switch {
	case timedOut.Load():
		return &provider.Error{Kind: provider.Timeout, Message: "no answer in time"}
	case client.Err() != nil:
		return &provider.Error{Kind: provider.Server, Message: "the caller went away"}
	}
	return &provider.Error{Kind: provider.Server, Message: err.Error()}
}

// countComplete counts a complete answer's tokens when the provider
// reported none.
func (c *call) countComplete(model string, answer []byte) pricing.Usage {
	if c.op == provider.Embeddings {
		return pricing.Usage{Input: tokens.EmbeddingsInput(model, c.body)}
	}
	var out int64
	gjson.GetBytes(answer, "choices").ForEach(func(_, ch gjson.Result) bool {
		out += tokens.Count(model, []byte(ch.Get("message.content").String()))
		ch.Get("message.tool_calls").ForEach(func(_, tc gjson.Result) bool {
			out += tokens.Count(model, []byte(tc.Get("function.name").String()+tc.Get("function.arguments").String()))
			return true
		})
		return true
	})
	return pricing.Usage{Input: tokens.ChatPrompt(model, c.body), Output: out}
}

// withUsage writes the gateway's count into an answer whose provider
// reported none, so the caller sees the tokens it is billed for.
func (c *call) withUsage(answer []byte, u pricing.Usage) []byte {
	b := make([]byte, 0, 96)
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, u.Input, 10)
	if c.op == provider.Chat {
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, u.Output, 10)
	}
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.Input+u.Output, 10)
	b = append(b, '}')
	if edited, err := sjson.SetRawBytes(answer, "usage", b); err == nil {
		return edited
	}
	return answer
}

// account fills the usage record from the provider's usage and the
// serving target's price.
func (c *call) account(u pricing.Usage) {
	c.rec.InputTokens, c.rec.OutputTokens = u.Input, u.Output
	c.rec.CachedTokens, c.rec.CacheWriteTokens = u.CachedInput, u.CacheWrite+u.CacheWrite1h
	if t := c.served; t != nil && t.priced {
		c.rec.CostPico, c.rec.Priced = pricing.Cost(t.price, u).Picodollars(), true
	}
}

// settle replaces the reservation by what the call used and records it.
func (c *call) settle() {
	c.res.Settle(meter.Ask{Tokens: c.rec.InputTokens + c.rec.OutputTokens, Cost: pricing.FromPicodollars(c.rec.CostPico)})
	c.res = nil
	if c.rec.Status == 0 {
		c.rec.Status = statusClientClosed
	}
	c.rec.Latency = time.Since(c.x.Start)
	if !c.firstToken.IsZero() {
		c.rec.TTFT = c.firstToken.Sub(c.x.Start)
	}
	c.e.s.metrics.observe(&c.rec)
	c.e.s.usage.Record(c.rec)
}

// fail marks the call's usage record as failed with code.
func (c *call) fail(code string, status int) { c.rec.Code, c.rec.Status = code, status }

const statusClientClosed = 499

// firstByte is the first byte of s that is not JSON whitespace, or 0.
func firstByte(s string) byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return s[i]
	}
	return 0
}
