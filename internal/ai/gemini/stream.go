package gemini

import (
	"bytes"
	"time"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// stream translates streamGenerateContent?alt=sse: every event is a
// whole GenerateContentResponse holding the next text pieces, whole
// function calls, and, on the last one, the finishReason.
// usageMetadata is cumulative, so the last one seen is the usage.
type stream struct {
	model string
	// head is `{"id":…,"object":"chat.completion.chunk","created":…,"model":…`,
	// built from the first event and shared by every chunk.
	head     []byte
	buf      []byte
	choices  []choiceState
	usage    pricing.Usage
	thoughts int64
	hasUsage bool
	complete bool
}

// choiceState is what the stream has said so far for one candidate.
type choiceState struct {
	started  bool // the role delta went out
	calls    int  // tool calls so far: the next one's index and id
	finished bool
}

var _ provider.Stream = (*stream)(nil)

func newStream(c *provider.Call) *stream { return &stream{model: c.Model} }

// Event translates one GenerateContentResponse.
func (s *stream) Event(_, data []byte, emit func(chunk []byte) error) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	res := parse(data)
	if !res.IsObject() {
		return &provider.Error{Kind: provider.Server, Message: "gemini: a stream event is not a JSON object", Type: "server_error"}
	}
	if e := res.Get("error"); e.Exists() {
		status := int(e.Get("code").Int())
		if status == 0 {
			status = 500
		}
		return classify(status, nil, e)
	}
	if s.head == nil {
		s.head = appendHead(make([]byte, 0, 128), res.Get("responseId").String(), "chat.completion.chunk", time.Now().Unix(), s.model)
	}
	if um := res.Get("usageMetadata"); um.IsObject() {
		s.usage, s.hasUsage = usageOf(um), true
		s.thoughts = um.Get("thoughtsTokenCount").Int()
	}
	var err error
	n := 0
	res.Get("candidates").ForEach(func(_, cand gjson.Result) bool {
		err = s.candidate(candidateIndex(cand, n), cand, emit)
		n++
		return err == nil
	})
	if err != nil {
		return err
	}
	if n == 0 && res.Get("promptFeedback.blockReason").String() != "" {
		// A blocked prompt: one event, no candidates.
		st := s.choice(0)
		if !st.finished {
			if err := s.delta(0, st, nil, emit); err != nil {
				return err
			}
			return s.finish(0, st, "content_filter", emit)
		}
	}
	return nil
}

func (s *stream) choice(i int) *choiceState {
	for len(s.choices) <= i {
		s.choices = append(s.choices, choiceState{})
	}
	return &s.choices[i]
}

// candidate emits the delta of one candidate's new parts, then its
// finish chunk if it has a finishReason.
func (s *stream) candidate(index int, cand gjson.Result, emit func([]byte) error) error {
	if index < 0 || index > 64 {
		return &provider.Error{Kind: provider.Server, Message: "gemini: a stream event has an implausible candidate index", Type: "server_error"}
	}
	st := s.choice(index)
	var buf [8]part
	parts := scanParts(buf[:0], cand.Get("content.parts"))
	hasNews := false
	for _, p := range parts {
		if p.text.String() != "" || p.call.Exists() {
			hasNews = true
		}
	}
	reason := cand.Get("finishReason").String()
	if hasNews || (!st.started && reason != "") {
		if err := s.delta(index, st, parts, emit); err != nil {
			return err
		}
	}
	if reason != "" && !st.finished {
		return s.finish(index, st, finishReason(reason, st.calls > 0), emit)
	}
	return nil
}

// delta emits one chunk with the text and function calls of parts, the
// role on the choice's first chunk.
func (s *stream) delta(index int, st *choiceState, parts []part, emit func([]byte) error) error {
	b := s.open(index)
	b = append(b, `"delta":{`...)
	sep := false
	if !st.started {
		b = append(b, `"role":"assistant"`...)
		sep = true
	}
	hasText, hasCalls := false, false
	for _, p := range parts {
		if p.text.String() != "" {
			hasText = true
		}
		if p.call.Exists() {
			hasCalls = true
		}
	}
	switch {
	case hasText:
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"content":"`...)
		for _, p := range parts {
			b = jsontext.AppendEscaped(b, p.text.String())
		}
		b = append(b, '"')
		sep = true
	case !st.started && !hasCalls:
		b = append(b, `,"content":""`...)
	case !st.started:
		b = append(b, `,"content":null`...)
	}
	if hasCalls {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"tool_calls":[`...)
		first := true
		for _, p := range parts {
			if !p.call.Exists() {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendToolCall(b, st.calls, st.calls, p.call)
			st.calls++
		}
		b = append(b, ']')
	}
	b = append(b, `},"finish_reason":null}]}`...)
	st.started = true
	s.buf = b
	return emit(b)
}

// finish emits the chunk that ends a choice.
func (s *stream) finish(index int, st *choiceState, reason string, emit func([]byte) error) error {
	b := s.open(index)
	b = append(b, `"delta":{},"finish_reason":"`...)
	b = append(b, reason...)
	b = append(b, `"}]}`...)
	st.finished = true
	s.complete = true
	s.buf = b
	return emit(b)
}

// open starts a chunk of one choice in the reused buffer.
func (s *stream) open(index int) []byte {
	b := append(s.buf[:0], s.head...)
	b = append(b, `,"choices":[{"index":`...)
	b = appendInt(b, int64(index))
	return append(b, ',')
}

// End emits the usage chunk of a complete stream.
func (s *stream) End(emit func(chunk []byte) error) (bool, error) {
	if !s.complete {
		return false, nil
	}
	if !s.hasUsage {
		return true, nil
	}
	b := append(s.buf[:0], s.head...)
	b = append(b, `,"choices":[],"usage":`...)
	b = appendUsage(b, s.usage, s.thoughts)
	b = append(b, '}')
	s.buf = b
	return true, emit(b)
}

// Usage is the latest usageMetadata of the stream.
func (s *stream) Usage() (pricing.Usage, bool) { return s.usage, s.hasUsage }
