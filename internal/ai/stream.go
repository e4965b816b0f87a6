package ai

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/ai/sse"
	"github.com/pinpointgw/pinpoint/internal/ai/tokens"
	"github.com/pinpointgw/pinpoint/internal/pipeline"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// relayer is the per-stream state, pooled: the SSE reader's buffers, the
// output buffer and the text sample are reused across streams.
type relayer struct {
	r   *sse.Reader
	out []byte
	// text holds the first textSample bytes of the streamed text, and
	// textBytes counts all of it: when a provider reports no usage (a
	// stream that broke off) the output is counted with the tokenizer
	// from the sample and scaled to the whole length, so that a long
	// stream costs neither memory nor tokenizer time while it runs.
	text      []byte
	textBytes int64
	// scratch holds a chunk edited before it is written.
	scratch []byte
}

// maxPendingOut bounds the chunks a relay gathers before it writes them
// even though more have already arrived.
const maxPendingOut = 32 << 10

// textSample bounds the streamed text a relay keeps for counting.
const textSample = 16 << 10

var relayers = sync.Pool{New: func() any { return &relayer{r: sse.NewReader(nil), out: make([]byte, 0, 1024)} }}

// keep records streamed text for counting.
func (rl *relayer) keep(text string) {
	rl.textBytes += int64(len(text))
	if room := textSample - len(rl.text); room > 0 {
		rl.text = append(rl.text, text[:min(room, len(text))]...)
	}
}

// outputTokens counts the streamed text: the sample exactly, the rest
// at the sample's bytes per token.
func (rl *relayer) outputTokens(model string) int64 {
	if len(rl.text) == 0 {
		return 0
	}
	n := tokens.Count(model, rl.text)
	if rl.textBytes > int64(len(rl.text)) {
		n = n * rl.textBytes / int64(len(rl.text))
	}
	return n
}

// errClientGone is returned by emit once the caller stopped reading.
var errClientGone = errors.New("the caller went away")

// relay forwards a streamed 2xx answer to the caller as OpenAI chunks,
// each written and flushed as soon as it is translated. Until the first
// chunk is written a failure is returned (so the next target can be
// tried); after it, failures end the caller's stream with an error event.
func (c *call) relay(t target, pc *provider.Call, resp *http.Response, timer *time.Timer, timedOut *atomic.Bool, t0 time.Time) *provider.Error {
	rl := relayers.Get().(*relayer)
	defer relayers.Put(rl)
	rl.r.Reset(resp.Body)
	rl.text, rl.textBytes, rl.out = rl.text[:0], 0, rl.out[:0]
	st := t.b.p.Stream(pc)
	rc := http.NewResponseController(c.w)
	emit := func(chunk []byte) error {
		if !c.includeUsage && isUsageChunk(chunk) {
			return nil
		}
		if !c.started {
			h := c.w.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Accel-Buffering", "no")
			c.w.WriteHeader(http.StatusOK)
			c.started = true
			c.firstToken = time.Now()
			c.x.UpstreamLatency = c.firstToken.Sub(t0)
		}
		// The chunk is only read here, while it is valid.
		gjson.Get(unsafeString(chunk), "choices.0.delta").ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "content":
				rl.keep(v.Str)
			case "tool_calls":
				f := v.Get("0.function")
				rl.keep(f.Get("name").Str)
				rl.keep(f.Get("arguments").Str)
			}
			return true
		})
		if !c.includeUsage {
			chunk = withoutNullUsage(chunk, rl)
		}
		rl.out = sse.AppendData(rl.out, chunk)
		return nil
	}
	// flush writes the chunks emitted so far and flushes them, unless the
	// provider's next event has already arrived (then it goes in the same
	// write): a chunk waits for nothing that is not already here.
	flush := func(force bool) error {
		if len(rl.out) == 0 || (!force && rl.r.Pending() && len(rl.out) < maxPendingOut) {
			return nil
		}
		_, err := c.w.Write(rl.out)
		rl.out = rl.out[:0]
		if err != nil {
			return errClientGone
		}
		if err := rc.Flush(); err != nil {
			return errClientGone
		}
		return nil
	}

	var failure *provider.Error
	for {
		name, data, err := rl.r.Next()
		if err != nil {
			if err != io.EOF {
				failure = transportError(err, timedOut, c.x.Request.Context())
				if err == io.ErrUnexpectedEOF && !timedOut.Load() {
					failure.Message = "the stream broke off"
				}
			}
			break
		}
		timer.Reset(t.b.idle)
		err = st.Event(name, data, emit)
		if err == nil {
			err = flush(false)
		}
		if err != nil {
			if err == errClientGone {
				c.finishStream(st, rl, pc, t)
				return nil
			}
			var pe *provider.Error
			if !errors.As(err, &pe) {
				pe = &provider.Error{Kind: provider.Server, Message: err.Error()}
			}
			failure = pe
			break
		}
	}
	complete := false
	if failure == nil {
		var err error
		complete, err = st.End(emit)
		if err == nil {
			err = flush(true)
		}
		if err == errClientGone {
			c.finishStream(st, rl, pc, t)
			return nil
		}
		if !complete {
			failure = &provider.Error{Kind: provider.Server, Message: "the stream ended before the answer was complete"}
		}
	}
	if c.x.Request.Context().Err() != nil {
		// The caller went away: nothing more to write, and no fallback.
		c.finishStream(st, rl, pc, t)
		return nil
	}
	if failure != nil && !c.started {
		return failure
	}
	if !c.started {
		// A complete stream with nothing to forward still answers.
		_ = emit([]byte(`{"object":"chat.completion.chunk","choices":[]}`))
	}
	if complete {
		rl.out = append(rl.out, sse.Done...)
		_ = flush(true)
		c.rec.Status = http.StatusOK
	} else {
		_ = flush(true)
		c.streamError(failure)
		c.rec.Status, c.rec.Code = http.StatusOK, "ai.stream_interrupted"
		c.x.Record(stepStreamBroke(t, failure))
	}
	c.finishStream(st, rl, pc, t)
	return nil
}

// finishStream accounts a stream that reached the caller: the provider's
// usage, or the gateway's count when the provider gave none.
func (c *call) finishStream(st provider.Stream, rl *relayer, pc *provider.Call, t target) {
	c.served = &t
	u, ok := st.Usage()
	if !ok || (u.Input == 0 && u.Output == 0) {
		u.Input = tokens.ChatPrompt(t.model, c.body)
		u.Output = max(u.Output, rl.outputTokens(t.model))
		c.rec.Estimated = true
	}
	c.account(u)
}

// streamError ends a started stream with an error event in OpenAI's
// shape, which the SDKs raise as an APIError.
func (c *call) streamError(pe *provider.Error) {
	msg := "The provider's stream ended before the answer was complete (" + pe.Kind.String() + "). Request id " + c.x.ID + "."
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"message":`...)
	b = jsontext.AppendString(b, msg)
	b = append(b, `,"type":"api_error","param":null,"code":"ai.provider_unavailable"}}`...)
	_, _ = c.w.Write(sse.AppendData(nil, b))
	_ = http.NewResponseController(c.w).Flush()
}

// isUsageChunk reports whether a chunk is the usage-only chunk that
// ends a stream ("choices": [] and a usage object).
func isUsageChunk(chunk []byte) bool {
	if !bytes.Contains(chunk, usageObject) && !bytes.Contains(chunk, usageObjectSpaced) {
		return false
	}
	r := gjson.GetManyBytes(chunk, "choices", "usage")
	return r[1].IsObject() && (!r[0].Exists() || len(r[0].Array()) == 0)
}

var (
	usageObject       = []byte(`"usage":{`)
	usageObjectSpaced = []byte(`"usage": {`)
)

func stepStreamBroke(t target, pe *provider.Error) pipeline.Step {
	return pipeline.Step{Stage: "ai", Outcome: pipeline.OutcomeError, Rule: t.b.name + "/" + t.model,
		Note: "stream interrupted after the first chunk reached the caller (no fallback): " + pe.Error()}
}

var nullUsage = []byte(`,"usage":null`)

// withoutNullUsage drops the "usage":null member that OpenAI-format
// servers put on every chunk once the gateway asked them for usage, for
// callers that did not ask (OpenAI sends none to them). The result is
// built in rl.scratch; chunk itself is not modified.
func withoutNullUsage(chunk []byte, rl *relayer) []byte {
	i := bytes.Index(chunk, nullUsage)
	if i < 0 {
		return chunk
	}
	rl.scratch = append(append(rl.scratch[:0], chunk[:i]...), chunk[i+len(nullUsage):]...)
	return rl.scratch
}
