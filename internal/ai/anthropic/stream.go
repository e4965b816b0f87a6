package anthropic

import (
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// maxBlocks bounds the content block index a stream may use, so a
// corrupt index cannot make the translator allocate without limit.
const maxBlocks = 1 << 12

// blockKind is what a content block of the stream turns into.
type blockKind uint8

const (
	blockSkipped blockKind = iota // thinking, server tools, unknown types
	blockText                     // content deltas
	blockTool                     // tool_calls deltas
	blockAnswer                   // the forced json_schema tool: content deltas
)

type block struct {
	kind blockKind
	tool int // tool call index, for blockTool
}

// stream translates one streamed Messages answer into chat.completion
// chunks. It is used by one goroutine.
type stream struct {
	model   string
	forced  string // the json_schema tool's name, or ""
	created int64

	head   []byte // {"id":…,"object":…,"created":…,"model":… shared by every chunk
	buf    []byte // the chunk being emitted
	blocks []block
	tools  int // tool calls started so far

	usage    pricing.AnthropicUsage
	hasUsage bool
	stopped  bool // message_stop seen
}

var _ provider.Stream = (*stream)(nil)

// Stream returns the translator of a streamed answer to c.
func (p *client) Stream(c *provider.Call) provider.Stream {
	return &stream{
		model:   c.Model,
		forced:  forcedTool(c.Body),
		created: time.Now().Unix(),
		buf:     make([]byte, 0, 512),
	}
}

// Event handles one Messages stream event.
func (s *stream) Event(name, data []byte, emit func([]byte) error) error {
	// The data is only read during this call and nothing taken from it
	// outlives it (what is kept is copied), so it is viewed as a string
	// without a copy.
	raw := unsafe.String(unsafe.SliceData(data), len(data))
	if !gjson.Valid(raw) {
		// String values are copied into the chunks as they are, so only
		// well-formed JSON may go through.
		return &provider.Error{Kind: provider.Server, Message: "anthropic: stream event is not valid JSON"}
	}
	ev := gjson.Parse(raw)
	typ := string(name)
	if typ == "" {
		typ = ev.Get("type").String()
	}
	switch typ {
	case "message_start":
		msg := ev.Get("message")
		s.setHead(msg.Get("id").Raw)
		if u := msg.Get("usage"); u.IsObject() {
			readUsage(u, &s.usage)
			s.hasUsage = true
		}
		s.begin()
		s.buf = append(s.buf, `{"role":"assistant","content":""}`...)
		return emit(s.end(""))

	case "content_block_start":
		b := s.block(ev.Get("index"))
		if b == nil {
			return nil
		}
		cb := ev.Get("content_block")
		switch cb.Get("type").String() {
		case "text":
			b.kind = blockText
			if t := cb.Get("text"); isString(t) && t.Str != "" {
				return s.content(t.Raw, emit)
			}
		case "tool_use":
			nm := cb.Get("name")
			if s.forced != "" && nm.String() == s.forced {
				b.kind = blockAnswer
				return nil
			}
			b.kind, b.tool = blockTool, s.tools
			s.tools++
			s.begin()
			s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
			s.buf = appendInt(s.buf, int64(b.tool))
			s.buf = append(s.buf, `,"id":`...)
			s.buf = appendLiteral(s.buf, cb.Get("id"))
			s.buf = append(s.buf, `,"type":"function","function":{"name":`...)
			s.buf = appendLiteral(s.buf, nm)
			s.buf = append(s.buf, `,"arguments":""}}]}`...)
			return emit(s.end(""))
		default:
			b.kind = blockSkipped
		}
		return nil

	case "content_block_delta":
		b := s.block(ev.Get("index"))
		if b == nil {
			return nil
		}
		d := ev.Get("delta")
		switch d.Get("type").String() {
		case "text_delta":
			if b.kind == blockText {
				if t := d.Get("text"); isString(t) && t.Str != "" {
					return s.content(t.Raw, emit)
				}
			}
		case "input_json_delta":
			pj := d.Get("partial_json")
			if !isString(pj) || pj.Str == "" {
				return nil
			}
			switch b.kind {
			case blockAnswer:
				return s.content(pj.Raw, emit)
			case blockTool:
				s.begin()
				s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
				s.buf = appendInt(s.buf, int64(b.tool))
				s.buf = append(s.buf, `,"function":{"arguments":`...)
				s.buf = append(s.buf, pj.Raw...)
				s.buf = append(s.buf, `}}]}`...)
				return emit(s.end(""))
			}
		}
		return nil

	case "message_delta":
		if u := ev.Get("usage"); u.IsObject() {
			readUsage(u, &s.usage)
			s.hasUsage = true
		}
		s.begin()
		s.buf = append(s.buf, `{}`...)
		return emit(s.end(finishReason(ev.Get("delta.stop_reason").String(), s.forced != "")))

	case "message_stop":
		s.stopped = true

	case "error":
		e := ev.Get("error")
		et := e.Get("type").String()
		status := statusOf(et)
		msg := e.Get("message").String()
		if msg == "" {
			msg = "stream error " + et
		}
		return &provider.Error{Kind: kindOf(status), Status: status, Message: msg, Type: et}
	}
	// ping, content_block_stop and event types added later carry nothing.
	return nil
}

// End emits the usage chunk of a stream that ended with message_stop.
func (s *stream) End(emit func([]byte) error) (bool, error) {
	if !s.stopped {
		return false, nil
	}
	if !s.hasUsage {
		return true, nil
	}
	if s.head == nil {
		s.setHead("")
	}
	s.buf = append(s.buf[:0], s.head...)
	s.buf = append(s.buf, `,"choices":[],"usage":`...)
	s.buf = appendUsage(s.buf, s.usage.Usage())
	s.buf = append(s.buf, '}')
	return true, emit(s.buf)
}

// Usage is the usage reported so far: message_start's input counts and,
// once message_delta came, the output count.
func (s *stream) Usage() (pricing.Usage, bool) {
	if !s.hasUsage {
		return pricing.Usage{}, false
	}
	return s.usage.Usage(), true
}

// setHead builds the fields every chunk starts with from the message id
// literal.
func (s *stream) setHead(idLit string) {
	h := make([]byte, 0, 96+len(idLit)+len(s.model))
	h = append(h, `{"id":"chatcmpl-`...)
	h = appendInner(h, idLit)
	h = append(h, `","object":"chat.completion.chunk","created":`...)
	h = appendInt(h, s.created)
	h = append(h, `,"model":`...)
	h = jsontext.AppendString(h, s.model)
	s.head = h
}

// begin starts a chunk; the delta object follows.
func (s *stream) begin() {
	if s.head == nil {
		s.setHead("")
	}
	s.buf = append(s.buf[:0], s.head...)
	s.buf = append(s.buf, `,"choices":[{"index":0,"delta":`...)
}

// end closes a chunk begun with begin, with finish_reason null when
// finish is "".
func (s *stream) end(finish string) []byte {
	s.buf = append(s.buf, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		s.buf = append(s.buf, `null`...)
	} else {
		s.buf = append(s.buf, '"')
		s.buf = append(s.buf, finish...)
		s.buf = append(s.buf, '"')
	}
	s.buf = append(s.buf, `}]}`...)
	return s.buf
}

// content emits a content delta holding the string literal lit.
func (s *stream) content(lit string, emit func([]byte) error) error {
	s.begin()
	s.buf = append(s.buf, `{"content":`...)
	s.buf = append(s.buf, lit...)
	s.buf = append(s.buf, '}')
	return emit(s.end(""))
}

// block returns the state of the content block at index, growing the
// table as blocks start; nil for an index out of bounds.
func (s *stream) block(index gjson.Result) *block {
	i := index.Int()
	if index.Type != gjson.Number || i < 0 || i >= maxBlocks {
		return nil
	}
	for int64(len(s.blocks)) <= i {
		s.blocks = append(s.blocks, block{})
	}
	return &s.blocks[i]
}
