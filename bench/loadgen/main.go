// Command loadgen sends GET requests to one URL at a fixed total rate and
// prints latency percentiles. Unlike wrk, which measures how fast a server
// can go, it measures how long requests take at a chosen load, the way wrk2
// does: each request's latency is counted from the moment it was scheduled
// to be sent, so a stalled server cannot hide its stall by delaying the
// requests that would have measured it (coordinated omission).
//
//	loadgen -url http://127.0.0.1:18080/ -rate 5000 -duration 20s -conns 64
//
// It prints one "name value" pair per line: target_rps, achieved_rps,
// requests, errors, non_2xx, p50_ms, p90_ms, p99_ms, p999_ms, max_ms.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/bench/internal/rawhttp"
)

// options describe one run.
type options struct {
	url      string
	rate     float64       // requests per second, all connections together
	duration time.Duration // how long requests are scheduled for
	conns    int           // concurrent keep-alive connections
	timeout  time.Duration // per request, including a reconnect
}

// result is what one run measured.
type result struct {
	scheduled int             // requests the schedule asked for
	errors    int             // requests that failed without a response
	non2xx    int             // responses with a status outside 200-299
	latencies []time.Duration // sorted; one per request, failed ones included
	elapsed   time.Duration   // from the first scheduled send to the last reply
}

// run sends o.rate*o.duration requests, the i-th one scheduled at
// start + i/o.rate, over o.conns connections, and waits for all replies.
func run(o options) (result, error) {
	target, err := url.Parse(o.url)
	if err != nil {
		return result{}, err
	}
	interval := time.Duration(float64(time.Second) / o.rate)
	n := int(o.duration.Seconds() * o.rate)
	jobs := make(chan time.Time, o.conns)
	type tally struct {
		lat            []time.Duration
		errors, non2xx int
	}
	tallies := make([]tally, o.conns)
	var wg sync.WaitGroup
	for w := range tallies {
		t := &tallies[w]
		t.lat = make([]time.Duration, 0, n/o.conns+1)
		c := rawhttp.New(target, []byte("GET "+target.RequestURI()+" HTTP/1.1\r\nHost: "+target.Host+"\r\nUser-Agent: pinpoint-loadgen\r\n\r\n"), o.timeout)
		wg.Go(func() {
			defer c.Close()
			for scheduled := range jobs {
				status, err := c.Do(nil)
				t.lat = append(t.lat, time.Since(scheduled))
				switch {
				case err != nil:
					t.errors++
				case status < 200 || status > 299:
					t.non2xx++
				}
			}
		})
	}

	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			// Sleeping may overshoot; the next sends are then already due
			// and go out at once, so the average rate stays exact.
			time.Sleep(d)
		}
		jobs <- at
	}
	close(jobs)
	wg.Wait()

	r := result{scheduled: n, elapsed: time.Since(start)}
	for _, t := range tallies {
		r.latencies = append(r.latencies, t.lat...)
		r.errors += t.errors
		r.non2xx += t.non2xx
	}
	slices.Sort(r.latencies)
	return r, nil
}

// client is one keep-alive connection sending the same GET again and again.
// It writes the request bytes and parses the reply with http.ReadResponse
// instead of using http.Client, whose Transport spends several times the CPU
// per request (a goroutine pair and channel hand-offs); on a shared core that
// would make the load generator, not the target, the bottleneck.
// report writes r as "name value" lines.
func report(w io.Writer, o options, r result) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	achieved := 0.0
	if r.elapsed > 0 {
		achieved = float64(len(r.latencies)) / r.elapsed.Seconds()
	}
	var maxLatency time.Duration
	if len(r.latencies) > 0 {
		maxLatency = r.latencies[len(r.latencies)-1]
	}
	_, err := fmt.Fprintf(w,
		"target_rps %.1f\nachieved_rps %.1f\nrequests %d\nerrors %d\nnon_2xx %d\n"+
			"p50_ms %s\np90_ms %s\np99_ms %s\np999_ms %s\nmax_ms %s\n",
		o.rate, achieved, len(r.latencies), r.errors, r.non2xx,
		ms(rawhttp.Percentile(r.latencies, 50)), ms(rawhttp.Percentile(r.latencies, 90)),
		ms(rawhttp.Percentile(r.latencies, 99)), ms(rawhttp.Percentile(r.latencies, 99.9)), ms(maxLatency))
	return err
}

// validate rejects options that would schedule nothing, divide by zero or
// send anything but plain HTTP.
func validate(o options) error {
	u, err := url.Parse(o.url)
	switch {
	case o.url == "":
		return errors.New("-url is required")
	case err != nil:
		return fmt.Errorf("-url: %w", err)
	case u.Scheme != "http" || u.Host == "":
		return errors.New("-url must be http://host[:port]/path (https is not supported)")
	case o.rate <= 0:
		return errors.New("-rate must be positive")
	case o.duration <= 0:
		return errors.New("-duration must be positive")
	case o.conns <= 0:
		return errors.New("-conns must be positive")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.duration.Seconds()*o.rate < 1:
		return errors.New("-rate times -duration schedules no request")
	}
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "http:// URL to GET (required)")
	flag.Float64Var(&o.rate, "rate", 1000, "requests per second, all connections together")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send for")
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	warmup := flag.Duration("warmup", time.Second, "unmeasured run at the same rate first, to warm the target up")
	flag.Parse()
	if err := validate(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}

	if *warmup > 0 {
		w := o
		w.duration = *warmup
		if _, err := run(w); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
	r, err := run(o)
	if err == nil {
		err = report(os.Stdout, o, r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
