package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type event struct{ name, data string }

// readAll reads every event of src and the error that ended the stream
// (nil for a clean io.EOF).
func readAll(r *Reader) ([]event, error) {
	var out []event
	for {
		name, data, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, event{string(name), string(data)})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    []event
		wantErr error
	}{
		{"empty", "", nil, nil},
		{"lf", "data: a\n\ndata: b\n\n", []event{{"", "a"}, {"", "b"}}, nil},
		{"crlf", "event: x\r\ndata: a\r\n\r\ndata: b\r\n\r\n", []event{{"x", "a"}, {"", "b"}}, nil},
		{"mixed line ends", "data: a\r\n\ndata: b\n\r\n", []event{{"", "a"}, {"", "b"}}, nil},
		{"multi-line data", "data: one\ndata: two\ndata:\ndata: four\n\n", []event{{"", "one\ntwo\n\nfour"}}, nil},
		{"no space after colon", "data:{\"a\":1}\n\n", []event{{"", `{"a":1}`}}, nil},
		{"only the first space is dropped", "data:  two spaces\n\n", []event{{"", " two spaces"}}, nil},
		{"field without colon", "data\n\n", []event{{"", ""}}, nil},
		{"colon inside value", "data: a: b\n\n", []event{{"", "a: b"}}, nil},
		{"comments and keep-alives", ": ping\n\n:\n\ndata: a\n: mid-event comment\n\n: OPENROUTER PROCESSING\n\n", []event{{"", "a"}}, nil},
		{"event names", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n", []event{{"message_start", "{}"}, {"ping", `{"type":"ping"}`}}, nil},
		{"last event name wins", "event: a\nevent: b\ndata: x\n\n", []event{{"b", "x"}}, nil},
		{"name does not leak into the next event", "event: a\ndata: 1\n\ndata: 2\n\n", []event{{"a", "1"}, {"", "2"}}, nil},
		{"event without data is skipped", "event: lonely\n\ndata: x\n\n", []event{{"", "x"}}, nil},
		{"id and retry ignored", "id: 7\nretry: 1000\ndata: x\nid: 8\n\n", []event{{"", "x"}}, nil},
		{"unknown field ignored", "foo: bar\ndata: x\n\n", []event{{"", "x"}}, nil},
		{"extra blank lines", "\n\n\ndata: x\n\n\n\n", []event{{"", "x"}}, nil},
		{"done", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []event{{"", `{"a":1}`}, {"", "[DONE]"}}, nil},
		{"final event without blank line", "data: a\n\ndata: b\n", []event{{"", "a"}}, io.ErrUnexpectedEOF},
		{"final line without newline", "data: a\n\ndata: b", []event{{"", "a"}}, io.ErrUnexpectedEOF},
		{"name without newline", "event: a", nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, wrap := range []struct {
				name string
				r    func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"byte by byte", iotest.OneByteReader},
			} {
				got, err := readAll(NewReader(wrap.r(strings.NewReader(tc.in))))
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("%s: error %v, want %v", wrap.name, err, tc.wantErr)
				}
				if !equal(got, tc.want) {
					t.Errorf("%s: events %q, want %q", wrap.name, got, tc.want)
				}
			}
		})
	}
}

func equal(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadError(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(broken)))
	got, err := readAll(r)
	if !errors.Is(err, broken) || !equal(got, []event{{"", "a"}}) {
		t.Errorf("events %q, error %v; want one event and %v", got, err, broken)
	}
}

func TestTooLong(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxEvent+1)
	for _, tc := range []struct{ name, in string }{
		{"one line", "data: " + big + "\n\n"},
		{"many lines", strings.Repeat("data: "+strings.Repeat("y", 1023)+"\n", MaxEvent/1024+1) + "\n"},
		{"comment line", ":" + big + big + "\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := NewReader(strings.NewReader(tc.in)).Next()
			if !errors.Is(err, ErrTooLong) {
				t.Errorf("error %v, want ErrTooLong", err)
			}
		})
	}
	// An event of exactly MaxEvent bytes is accepted.
	_, data, err := NewReader(strings.NewReader("data: " + big[:MaxEvent] + "\n\n")).Next()
	if err != nil || len(data) != MaxEvent {
		t.Errorf("event of MaxEvent bytes: %d bytes, %v", len(data), err)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("event: a\ndata: " + strings.Repeat("z", 10000) + "\n\ndata: cut"))
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	// Reset in the middle of a stream drops what was buffered of it.
	r.Reset(strings.NewReader("data: fresh\n\n"))
	got, err := readAll(r)
	if err != nil || !equal(got, []event{{"", "fresh"}}) {
		t.Errorf("after Reset: events %q, error %v", got, err)
	}
	r.Reset(strings.NewReader("event: e\r\ndata: again\r\n\r\n"))
	got, err = readAll(r)
	if err != nil || !equal(got, []event{{"e", "again"}}) {
		t.Errorf("after second Reset: events %q, error %v", got, err)
	}
}

func TestReuseDoesNotAllocate(t *testing.T) {
	stream := []byte(strings.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n", 64))
	src := bytes.NewReader(stream)
	r := NewReader(src)
	allocs := testing.AllocsPerRun(20, func() {
		src.Reset(stream)
		r.Reset(src)
		for {
			if _, _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per reused stream, want 0", allocs)
	}
}

func TestAppendData(t *testing.T) {
	t.Parallel()
	b := AppendData([]byte("x"), []byte(`{"a":1}`))
	if string(b) != "xdata: {\"a\":1}\n\n" {
		t.Errorf("AppendData = %q", b)
	}
	// What the writer writes, the reader reads back.
	stream := append(AppendData(nil, []byte(`{"n":1}`)), Done...)
	got, err := readAll(NewReader(bytes.NewReader(stream)))
	if err != nil || !equal(got, []event{{"", `{"n":1}`}, {"", "[DONE]"}}) {
		t.Errorf("round trip: events %q, error %v", got, err)
	}
}

// FuzzNext checks that Next never panics, never returns more than
// MaxEvent bytes or an error other than its own, and yields the same
// events however the input is cut into reads.
func FuzzNext(f *testing.F) {
	for _, s := range []string{
		"data: a\n\n",
		"event: x\r\ndata: a\r\ndata: b\r\n\r\n",
		": ping\n\nid: 1\nretry: 5\ndata: [DONE]\n\n",
		"data: a\ndata",
		"\r\n\r\n\n\n:",
		"data:\x00\xff\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, errWhole := readAll(NewReader(bytes.NewReader(in)))
		bytewise, errBytewise := readAll(NewReader(iotest.OneByteReader(bytes.NewReader(in))))
		if !equal(whole, bytewise) || !errors.Is(errWhole, errBytewise) && !errors.Is(errBytewise, errWhole) {
			t.Fatalf("whole read %q (%v), byte by byte %q (%v)", whole, errWhole, bytewise, errBytewise)
		}
		for _, e := range whole {
			if len(e.data) > MaxEvent {
				t.Fatalf("event of %d bytes", len(e.data))
			}
		}
		if errWhole != nil && errWhole != io.ErrUnexpectedEOF && errWhole != ErrTooLong {
			t.Fatalf("unexpected error %v", errWhole)
		}
	})
}
