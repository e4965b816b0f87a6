package pipeline

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
)

// FuzzIsJSON: wherever mime.ParseMediaType accepts a Content-Type, isJSON
// agrees with it about application/json and +json types.
func FuzzIsJSON(f *testing.F) {
	for _, s := range []string{"application/json", "Application/JSON; charset=utf-8", "application/vnd.api+json",
		"text/plain", "application/jsonx", "json", "/json", "application/+json", " application/json ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		got := IsJSON(ct)
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return
		}
		_, sub, _ := strings.Cut(mt, "/")
		want := mt == "application/json" || (len(sub) > 5 && strings.HasSuffix(mt, "+json"))
		if got != want {
			t.Fatalf("IsJSON(%q) = %v; media type %q", ct, got, mt)
		}
	})
}

func newBodyExchange(body string, chunked bool) *Exchange {
	r, _ := http.NewRequest("POST", "http://x/", strings.NewReader(body))
	if chunked {
		r.ContentLength = -1
		r.Body = io.NopCloser(strings.NewReader(body)) // no length known
	}
	return &Exchange{Request: r}
}

func TestBodyReadOnceAndRestored(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		x := newBodyExchange("0123456789", chunked)
		buf, complete, err := x.Body(10)
		if err != nil || !complete || string(buf) != "0123456789" {
			t.Fatalf("chunked=%v: Body(10) = %q %v %v", chunked, buf, complete, err)
		}
		// A second stage gets the same bytes without reading again.
		if again, ok, _ := x.Body(4); string(again) != "0123456789" || !ok {
			t.Errorf("second Body = %q %v", again, ok)
		}
		got, _ := io.ReadAll(x.Request.Body)
		if string(got) != "0123456789" {
			t.Errorf("upstream reads %q", got)
		}
		rc, err := x.Request.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if replay, _ := io.ReadAll(rc); string(replay) != "0123456789" {
			t.Errorf("GetBody replays %q", replay)
		}
	}
}

func TestBodyOverTheLimitThenLarger(t *testing.T) {
	x := newBodyExchange("0123456789abcdef", true)
	buf, complete, err := x.Body(4)
	if err != nil || complete || len(buf) != 5 {
		t.Fatalf("Body(4) = %q %v %v, want 5 bytes and incomplete", buf, complete, err)
	}
	if x.Request.GetBody != nil {
		t.Error("a partly read body must not be replayable")
	}
	// A later stage with a larger limit reads on from where the first stopped.
	buf, complete, err = x.Body(100)
	if err != nil || !complete || string(buf) != "0123456789abcdef" {
		t.Fatalf("Body(100) = %q %v %v", buf, complete, err)
	}
	got, _ := io.ReadAll(x.Request.Body)
	if string(got) != "0123456789abcdef" {
		t.Errorf("upstream reads %q", got)
	}
}

func TestBodyTruncatedKeepsEveryByteForTheUpstream(t *testing.T) {
	x := newBodyExchange("0123456789abcdef", false)
	if _, complete, _ := x.Body(3); complete {
		t.Fatal("complete at 3 of 16 bytes")
	}
	got, _ := io.ReadAll(x.Request.Body)
	if string(got) != "0123456789abcdef" {
		t.Errorf("upstream reads %q after a partial read", got)
	}
}

type failingBody struct{ n int }

func (f *failingBody) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, ErrBodyTooLarge
	}
	f.n--
	p[0] = 'a'
	return 1, nil
}
func (f *failingBody) Close() error { return nil }

func TestBodyErrorIsSticky(t *testing.T) {
	x := newBodyExchange("", true)
	x.Request.Body = &failingBody{n: 3}
	buf, complete, err := x.Body(100)
	if !IsBodyTooLarge(err) || complete || string(buf) != "aaa" {
		t.Fatalf("Body = %q %v %v", buf, complete, err)
	}
	if _, _, err2 := x.Body(200); !IsBodyTooLarge(err2) {
		t.Errorf("second call error %v", err2)
	}
	got, rerr := io.ReadAll(x.Request.Body)
	if string(got) != "aaa" || !IsBodyTooLarge(rerr) {
		t.Errorf("upstream reads %q, %v; want the bytes then the error", got, rerr)
	}
}

func TestBodyNone(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	x := &Exchange{Request: r}
	if buf, complete, err := x.Body(10); buf != nil || !complete || err != nil {
		t.Errorf("no body: %q %v %v", buf, complete, err)
	}
}
