// Command aiload is the AI benchmark's load generator: it POSTs one chat
// completion request again and again over keep-alive connections and reports
// throughput and latency; with -stream it reads each reply as Server-Sent
// Events and also reports the time to the first event and the gaps between
// events.
//
//	aiload -url http://127.0.0.1:18092/v1/chat/completions -conns 64 -duration 20s
//	aiload -url ... -stream -chunks 50 -header 'Authorization: Bearer sk-bench'
//
// By default it runs closed-loop: every connection sends its next request as
// soon as the previous reply has been read, so the rate is the target's
// maximum and latencies are latencies at saturation. With -rate R it sends R
// requests per second in total on a fixed schedule instead, counting each
// latency from the scheduled send time (no coordinated omission), like
// bench/loadgen.
//
// It prints one "name value" line each: mode, conns, requests, errors,
// non_2xx, incomplete, rps, p50_ms, p90_ms, p99_ms, max_ms, and with -stream
// also events_per_stream, ttfb_p50_ms, ttfb_p99_ms, gap_p50_ms, gap_p99_ms,
// gap_max_ms. rps counts complete 2xx replies only.
//
// Like bench/loadgen it writes fixed request bytes on raw connections and
// parses replies with http.ReadResponse, without http.Client, so that the
// load side stays cheap on a core it shares with the fake server. It never
// uses an HTTP proxy from the environment. Plain HTTP only.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/bench/internal/rawhttp"
)

// options describe one run.
type options struct {
	url      string
	body     []byte
	headers  []string      // "Name: value" lines added to every request
	stream   bool          // read replies as SSE and time their events
	chunks   int           // with stream: the content chunks each stream must carry (0: any)
	conns    int           // concurrent keep-alive connections
	duration time.Duration // how long requests are sent for
	rate     float64       // 0: closed loop; else requests per second in total
	timeout  time.Duration // per request, including a reconnect
}

// result is what one run measured.
type result struct {
	errors     int             // requests that failed without a complete reply
	non2xx     int             // replies with a status outside 200-299
	incomplete int             // 2xx streams without [DONE] or with a wrong number of chunks
	ok         int             // complete 2xx replies
	latencies  []time.Duration // sorted; whole reply, every request
	ttfb       []time.Duration // sorted; streams: to the first complete event
	gaps       []time.Duration // sorted; streams: between consecutive events
	events     int             // streams: data events in ok streams
	elapsed    time.Duration   // from the first send to the last reply
	firstErr   error           // one of the errors, to say what went wrong
}

// defaultBody is a typical small chat request; stream adds "stream": true
// and asks for the usage chunk, as a gateway that counts tokens does.
func defaultBody(model string, stream bool) []byte {
	tail := ""
	if stream {
		tail = `,"stream":true,"stream_options":{"include_usage":true}`
	}
	return []byte(`{"model":` + strconv.Quote(model) + `,"messages":[` +
		`{"role":"system","content":"You are a concise assistant for an API gateway's documentation."},` +
		`{"role":"user","content":"In one sentence, what does an API gateway do?"}],` +
		`"max_tokens":128,"temperature":0.2` + tail + `}`)
}

// requestBytes is the whole HTTP/1.1 request each connection writes.
func requestBytes(target *url.URL, headers []string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("POST " + target.RequestURI() + " HTTP/1.1\r\nHost: " + target.Host + "\r\n")
	b.WriteString("User-Agent: pinpoint-aiload\r\nContent-Type: application/json\r\nAccept: */*\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// tally is one connection's share of a result.
type tally struct {
	lat, ttfb, gaps                []time.Duration
	errors, non2xx, incomplete, ok int
	events                         int
	last                           time.Time
	firstErr                       error
}

// add counts one request and reports whether its reply was complete and 2xx.
func (t *tally) add(o options, start time.Time, r reply, err error) bool {
	now := time.Now()
	t.last = now
	t.lat = append(t.lat, now.Sub(start))
	switch {
	case err != nil:
		t.errors++
		if t.firstErr == nil {
			t.firstErr = err
		}
	case r.status < 200 || r.status > 299:
		t.non2xx++
	case o.stream && (!r.done || (o.chunks > 0 && r.content != o.chunks)):
		t.incomplete++
	default:
		t.ok++
		if o.stream {
			t.ttfb = append(t.ttfb, r.first.Sub(start))
			t.events += r.eventCount
		}
		return true
	}
	return false
}

// run sends requests for o.duration over o.conns connections, closed-loop or
// on o.rate's schedule, and waits for all replies.
func run(o options) (result, error) {
	target, err := url.Parse(o.url)
	if err != nil {
		return result{}, err
	}
	req := requestBytes(target, o.headers, o.body)
	tallies := make([]tally, o.conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.duration)
	var jobs chan time.Time
	if o.rate > 0 {
		jobs = make(chan time.Time, o.conns)
	}
	for w := range tallies {
		t := &tallies[w]
		c := newClient(target, req, o.timeout)
		wg.Go(func() {
			defer c.conn.Close()
			one := func(at time.Time) {
				c.gaps = c.gaps[:0]
				r, err := c.do(o.stream, &c.gaps)
				if t.add(o, at, r, err) {
					t.gaps = append(t.gaps, c.gaps...)
				}
				if err != nil && jobs == nil {
					// A refused connection would otherwise spin; the run
					// is invalid anyway once it has errors.
					time.Sleep(10 * time.Millisecond)
				}
			}
			if jobs != nil {
				for at := range jobs {
					one(at)
				}
				return
			}
			for time.Now().Before(deadline) {
				one(time.Now())
			}
		})
	}
	if jobs != nil {
		interval := time.Duration(float64(time.Second) / o.rate)
		n := int(o.duration.Seconds() * o.rate)
		for i := range n {
			at := start.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			jobs <- at
		}
		close(jobs)
	}
	wg.Wait()

	var r result
	last := start
	for _, t := range tallies {
		r.latencies = append(r.latencies, t.lat...)
		r.ttfb = append(r.ttfb, t.ttfb...)
		r.gaps = append(r.gaps, t.gaps...)
		r.errors += t.errors
		r.non2xx += t.non2xx
		r.incomplete += t.incomplete
		r.ok += t.ok
		r.events += t.events
		if r.firstErr == nil {
			r.firstErr = t.firstErr
		}
		if t.last.After(last) {
			last = t.last
		}
	}
	r.elapsed = last.Sub(start)
	slices.Sort(r.latencies)
	slices.Sort(r.ttfb)
	slices.Sort(r.gaps)
	return r, nil
}

// reply is what one request got back.
type reply struct {
	status     int
	done       bool      // a stream ended with data: [DONE]
	content    int       // stream events with text (a non-empty "content" string)
	eventCount int       // all data events, [DONE] included
	first      time.Time // when the first event was complete
}

// client is one keep-alive connection sending the same request again and again.
type client struct {
	conn   *rawhttp.Conn
	events *bufio.Reader   // reads a stream's body; reset per reply
	gaps   []time.Duration // the current reply's gaps between events
}

func newClient(target *url.URL, request []byte, timeout time.Duration) *client {
	return &client{conn: rawhttp.New(target, request, timeout), events: bufio.NewReaderSize(nil, 64<<10)}
}

// do sends one request and reads the whole reply. With stream it appends
// the gaps between the reply's events to gaps.
func (c *client) do(stream bool, gaps *[]time.Duration) (reply, error) {
	var r reply
	status, err := c.conn.Do(func(resp *http.Response) error {
		if stream && resp.StatusCode/100 == 2 {
			c.events.Reset(resp.Body)
			return readEvents(c.events, &r, gaps)
		}
		return nil
	})
	r.status = status
	return r, err
}

// readEvents reads SSE events until the body ends, recording in r whether
// the stream finished with [DONE], how many content chunks it carried and
// when its first event arrived, and appending the gap before each later
// event to gaps. An event is complete at its blank line (or at the end of
// the body).
func readEvents(br *bufio.Reader, r *reply, gaps *[]time.Duration) error {
	var prev time.Time
	hasData, content := false, false
	dispatch := func() {
		if !hasData {
			return
		}
		now := time.Now()
		if prev.IsZero() {
			r.first = now
		} else {
			*gaps = append(*gaps, now.Sub(prev))
		}
		prev = now
		r.eventCount++
		if content {
			r.content++
		}
		hasData, content = false, false
	}
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			// A data line longer than the buffer: what it says does not
			// matter here, only that the event has data.
			hasData = true
			continue
		case err != nil && err != io.EOF:
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			dispatch()
		} else if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = bytes.TrimPrefix(data, []byte(" "))
			hasData = true
			if bytes.Equal(data, []byte("[DONE]")) {
				r.done = true
			} else if hasContent(data) {
				content = true
			}
		}
		if err == io.EOF {
			dispatch()
			return nil
		}
	}
}

// hasContent reports whether a chunk carries text: a "content" string that
// is not empty, wherever the key sits (the role chunk's is empty).
func hasContent(data []byte) bool {
	key := []byte(`"content":"`)
	for {
		i := bytes.Index(data, key)
		if i < 0 {
			return false
		}
		data = data[i+len(key):]
		if len(data) > 0 && data[0] != '"' {
			return true
		}
	}
}

// report writes r as "name value" lines.
func report(w io.Writer, o options, r result) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	last := func(s []time.Duration) time.Duration {
		if len(s) == 0 {
			return 0
		}
		return s[len(s)-1]
	}
	rps := 0.0
	if r.elapsed > 0 {
		rps = float64(r.ok) / r.elapsed.Seconds()
	}
	mode := "closed"
	if o.rate > 0 {
		mode = "rate " + strconv.FormatFloat(o.rate, 'f', -1, 64)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mode %s\nconns %d\nrequests %d\nerrors %d\nnon_2xx %d\nincomplete %d\nrps %.1f\n"+
		"p50_ms %s\np90_ms %s\np99_ms %s\nmax_ms %s\n",
		mode, o.conns, len(r.latencies), r.errors, r.non2xx, r.incomplete, rps,
		ms(rawhttp.Percentile(r.latencies, 50)), ms(rawhttp.Percentile(r.latencies, 90)), ms(rawhttp.Percentile(r.latencies, 99)), ms(last(r.latencies)))
	if o.stream {
		perStream := 0.0
		if r.ok > 0 {
			perStream = float64(r.events) / float64(r.ok)
		}
		fmt.Fprintf(&b, "events_per_stream %.1f\nttfb_p50_ms %s\nttfb_p99_ms %s\ngap_p50_ms %s\ngap_p99_ms %s\ngap_max_ms %s\n",
			perStream, ms(rawhttp.Percentile(r.ttfb, 50)), ms(rawhttp.Percentile(r.ttfb, 99)),
			ms(rawhttp.Percentile(r.gaps, 50)), ms(rawhttp.Percentile(r.gaps, 99)), ms(last(r.gaps)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// validate rejects options that would send nothing or anything but plain HTTP.
func validate(o options) error {
	u, err := url.Parse(o.url)
	switch {
	case o.url == "":
		return errors.New("-url is required")
	case err != nil:
		return fmt.Errorf("-url: %w", err)
	case u.Scheme != "http" || u.Host == "":
		return errors.New("-url must be http://host[:port]/path (https is not supported)")
	case o.conns <= 0:
		return errors.New("-conns must be positive")
	case o.duration <= 0:
		return errors.New("-duration must be positive")
	case o.rate < 0:
		return errors.New("-rate must not be negative")
	case o.rate > 0 && o.duration.Seconds()*o.rate < 1:
		return errors.New("-rate times -duration schedules no request")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.chunks < 0:
		return errors.New("-chunks must not be negative")
	}
	for _, h := range o.headers {
		name, _, ok := strings.Cut(h, ":")
		if !ok || name == "" || strings.ContainsAny(h, "\r\n") || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("-header %q: want \"Name: value\"", h)
		}
		if strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Host") {
			return fmt.Errorf("-header %q: set by aiload itself", h)
		}
	}
	return nil
}

// headerFlags collects repeated -header flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var o options
	var headers headerFlags
	flag.StringVar(&o.url, "url", "", "http:// URL to POST to (required)")
	bodyFile := flag.String("body", "", "file with the request body (default: a small chat request for -model)")
	model := flag.String("model", "gpt-4o-mini", "the model (or alias) of the default body")
	flag.Var(&headers, "header", `"Name: value" to add to every request (repeatable)`)
	flag.BoolVar(&o.stream, "stream", false, "stream: the default body asks for SSE, replies are read event by event")
	flag.IntVar(&o.chunks, "chunks", 0, "with -stream: content chunks every stream must carry, else it counts as incomplete (0: any)")
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send for")
	flag.Float64Var(&o.rate, "rate", 0, "requests per second in total on a fixed schedule (0: closed loop, as fast as replies come)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	warmup := flag.Duration("warmup", time.Second, "unmeasured run with the same settings first")
	flag.Parse()
	o.headers = headers
	o.body = defaultBody(*model, o.stream)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "aiload:", err)
			os.Exit(2)
		}
		o.body = b
	}
	if err := validate(o); err != nil {
		fmt.Fprintln(os.Stderr, "aiload:", err)
		os.Exit(2)
	}
	if *warmup > 0 {
		w := o
		w.duration = *warmup
		if w.rate > 0 && w.duration.Seconds()*w.rate < 1 {
			w.duration = time.Duration(float64(time.Second) / w.rate)
		}
		if _, err := run(w); err != nil {
			fmt.Fprintln(os.Stderr, "aiload:", err)
			os.Exit(1)
		}
	}
	r, err := run(o)
	if err == nil {
		err = report(os.Stdout, o, r)
	}
	if r.firstErr != nil {
		fmt.Fprintf(os.Stderr, "aiload: %d requests failed, e.g.: %v\n", r.errors, r.firstErr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aiload:", err)
		os.Exit(1)
	}
}
