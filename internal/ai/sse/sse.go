// Package sse reads and writes server-sent events (the WHATWG
// EventSource format) as AI providers stream them: "event:" and "data:"
// fields, events separated by a blank line, LF or CRLF line ends.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxEvent bounds one event's data; a longer event is an error rather
// than unbounded memory.
const MaxEvent = 1 << 20

// ErrTooLong is returned for an event larger than MaxEvent.
var ErrTooLong = errors.New("sse: event larger than 1 MiB")

// Reader reads events from a stream. It reuses its buffers: the name and
// data returned by Next are valid until the next call.
type Reader struct {
	br   *bufio.Reader
	name []byte
	data []byte
	line []byte
}

// NewReader reads events from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 4096)}
}

// Reset makes the reader read from r, keeping its buffers.
func (r *Reader) Reset(src io.Reader) {
	r.br.Reset(src)
	r.name, r.data, r.line = r.name[:0], r.data[:0], r.line[:0]
}

// Next returns the next event that has a data field. Comments (":" lines,
// keep-alives), "id:" and "retry:" fields are skipped. At the end of the
// stream it returns io.EOF; a stream that ends in the middle of an event
// returns io.ErrUnexpectedEOF (the partial event is dropped, as
// EventSource does).
func (r *Reader) Next() (name, data []byte, err error) {
	r.name, r.data = r.name[:0], r.data[:0]
	hasData, started := false, false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && started {
				return nil, nil, io.ErrUnexpectedEOF
			}
			return nil, nil, err
		}
		if len(line) == 0 {
			if hasData {
				return r.name, r.data, nil
			}
			r.name, started = r.name[:0], false
			continue
		}
		if line[0] == ':' {
			continue
		}
		started = true
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			r.name = append(r.name[:0], value...)
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			if len(r.data)+len(value) > MaxEvent {
				return nil, nil, ErrTooLong
			}
			r.data = append(r.data, value...)
			hasData = true
		}
	}
}

// Pending reports whether the bytes already read from the stream hold
// another complete event (a blank line), so that Next will not wait for
// the network. A relay uses it to write events that arrived together in
// one write, and to flush as soon as it would otherwise wait.
func (r *Reader) Pending() bool {
	n := r.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.br.Peek(n)
	return bytes.Contains(b, lf2) || bytes.Contains(b, crlf2)
}

var (
	lf2   = []byte("\n\n")
	crlf2 = []byte("\n\r\n")
)

// readLine returns one line without its LF or CRLF.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		r.line = append(r.line, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			if len(r.line) > MaxEvent {
				return nil, ErrTooLong
			}
			continue
		}
		if err == io.EOF && len(r.line) > 0 {
			// A last line without its newline ends no event.
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line := r.line[:len(r.line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// AppendData appends one "data:" event carrying payload (which must not
// contain a newline; JSON from the encoder never does) to b.
func AppendData(b, payload []byte) []byte {
	b = append(b, "data: "...)
	b = append(b, payload...)
	return append(b, '\n', '\n')
}

// Done is the event that ends an OpenAI-format stream.
var Done = []byte("data: [DONE]\n\n")
