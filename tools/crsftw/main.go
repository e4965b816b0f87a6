// Command crsftw runs the OWASP CRS regression corpus through Pinpoint's
// WAF: it starts `pinpoint serve` with the WAF on a catch-all route in
// front of albedo (the CRS test backend, served in this process), sends
// every test of the corpus with go-ftw's runner, reads the matched rules
// from waf.error_log, and reports the pass rate. Tests that cannot pass
// through a gateway for a reason that is not the WAF's are listed with
// their reason in the overrides file, verified on every run, and counted
// apart. See docs/waf-crs-regression.md.
//
//	cd tools/crsftw && GOWORK=off go run .                   # the whole corpus
//	GOWORK=off go run . -ci                                  # the CI subset
//	GOWORK=off go run . -include '^(942100|941100|930100)-'  # a few rules
//
// It exits 0 when the pass rate is at least -threshold percent, 1 when it
// is below, and 2 when the run could not be made.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ciInclude is the subset -ci runs, some ninety tests: one or two rules of
// every attack family (LFI, RFI, RCE, PHP, Node.js, XSS, SQLi, session
// fixation, Java), the method, scanner, protocol and smuggling checks,
// urlencoded, JSON and multipart bodies, and tests that Pinpoint or Go's
// HTTP server refuse before the WAF, so that the override checks run too.
const ciInclude = `^(911100|913100|920250|920430|921120|921190|922100|930100|931100|932171|933130|934170|941100|942100|942290|943100|944260)-`

// options are crsftw's flags.
type options struct {
	ci          bool
	pinpoint    string
	repo        string
	include     string
	exclude     string
	overrides   string
	threshold   float64
	out         string
	failures    string
	corpus      string
	readTimeout time.Duration
	startWait   time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is crsftw with its arguments; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("crsftw", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.pinpoint, "pinpoint", "", "gateway binary to test (default: build ./cmd/pinpoint of -repo)")
	fl.StringVar(&o.repo, "repo", "../..", "Pinpoint repository to build the gateway from")
	fl.StringVar(&o.include, "include", "", "run only tests whose id (942100-3) matches this regular expression")
	fl.BoolVar(&o.ci, "ci", false, "run the CI subset (-include "+ciInclude+")")
	fl.StringVar(&o.exclude, "exclude", "", "skip tests whose id matches this regular expression")
	fl.StringVar(&o.overrides, "overrides", "overrides.yaml", "overrides file: tests that cannot pass through a gateway, with reasons")
	fl.Float64Var(&o.threshold, "threshold", 99, "minimum pass rate in percent; below it crsftw exits 1")
	fl.StringVar(&o.out, "out", "results", "directory for the gateway's config, logs and the results")
	fl.StringVar(&o.failures, "failures", "", "file for the failure list (default: OUT/failures.txt)")
	fl.StringVar(&o.corpus, "corpus", "", "directory of CRS test files (default: the corpus of the embedded coraza-coreruleset)")
	fl.DurationVar(&o.readTimeout, "read-timeout", 5*time.Second, "how long to wait for each answer")
	fl.DurationVar(&o.startWait, "start-timeout", 2*time.Minute, "how long the gateway may take to become ready")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "crsftw: unexpected arguments %q\n", fl.Args())
		return 2
	}
	if o.ci {
		if o.include != "" {
			fmt.Fprintln(stderr, "crsftw: -ci and -include exclude each other")
			return 2
		}
		o.include = ciInclude
	}
	code, err := runCorpus(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "crsftw: %v\n", err)
		return 2
	}
	return code
}

// runCorpus is one run; an error means no verdict could be reached.
func runCorpus(ctx context.Context, o options, stdout, stderr io.Writer) (int, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "[crsftw] "+format+"\n", a...) }
	overrides, err := loadOverrides(o.overrides)
	if err != nil {
		return 0, err
	}
	include, err := compileFilter("include", o.include)
	if err != nil {
		return 0, err
	}
	exclude, err := compileFilter("exclude", o.exclude)
	if err != nil {
		return 0, err
	}
	corpus, version := embeddedCorpus, "coraza-coreruleset "+corpusVersion()
	if o.corpus != "" {
		corpus, version = os.DirFS(o.corpus), o.corpus
	}
	tests, err := loadCorpus(corpus, include, exclude)
	if err != nil {
		return 0, err
	}
	if len(tests) == 0 {
		return 0, errors.New("no test matches -include and -exclude")
	}

	out, err := filepath.Abs(o.out)
	if err != nil {
		return 0, err
	}
	// Each run starts from an empty data dir and error log.
	for _, p := range []string{"data", "waf.log"} {
		if err := os.RemoveAll(filepath.Join(out, p)); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(filepath.Join(out, "data"), 0o700); err != nil {
		return 0, err
	}
	gatewayLog, err := os.Create(filepath.Join(out, "gateway.log"))
	if err != nil {
		return 0, err
	}
	defer gatewayLog.Close()

	bin := o.pinpoint
	if bin == "" {
		repo, err := filepath.Abs(o.repo)
		if err != nil {
			return 0, err
		}
		logf("building the gateway from %s", repo)
		if bin, err = buildGateway(ctx, repo, out, gatewayLog); err != nil {
			return 0, fmt.Errorf("%w (see %s)", err, gatewayLog.Name())
		}
	}

	albedoLog, err := os.Create(filepath.Join(out, "albedo.log"))
	if err != nil {
		return 0, err
	}
	defer albedoLog.Close()
	be, err := startBackend(albedoLog)
	if err != nil {
		return 0, err
	}
	defer func() { _ = be.stop() }()

	proxy, err := freeAddr()
	if err != nil {
		return 0, err
	}
	admin, err := freeAddr()
	if err != nil {
		return 0, err
	}
	errorLog := filepath.Join(out, "waf.log")
	// go-ftw opens the log before the first request; the gateway appends.
	if err := os.WriteFile(errorLog, nil, 0o640); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(out, "gateway.yaml"), []byte(gatewayConfig(proxy, admin, be.URL(), errorLog)), 0o600); err != nil {
		return 0, err
	}
	logf("starting %s on %s (WAF at paranoia level 4, detection only) in front of albedo on %s", bin, proxy, be.URL())
	started := time.Now()
	gw, err := startGateway(ctx, bin, out, proxy, gatewayLog, o.startWait)
	if err != nil {
		return 0, fmt.Errorf("%w (see %s)", err, gatewayLog.Name())
	}
	defer gw.stop()
	logf("gateway ready after %s", time.Since(started).Round(100*time.Millisecond))

	host, portText, err := net.SplitHostPort(proxy)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, err
	}
	ftwLog, err := os.Create(filepath.Join(out, "ftw.log"))
	if err != nil {
		return 0, err
	}
	defer ftwLog.Close()
	s, err := newSuite(suiteConfig{Addr: host, Port: port, LogFile: errorLog, ReadTimeout: o.readTimeout, Output: ftwLog})
	if err != nil {
		return 0, err
	}
	defer s.close()

	logf("running %d tests", len(tests))
	start := time.Now()
	results := make([]result, 0, len(tests))
	nFailed := 0
	for i, tc := range tests {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("interrupted after %d of %d tests", i, len(tests))
		}
		r := s.run(tc.File, tc.Test)
		if gw.exited() {
			return 0, fmt.Errorf("%w at test %s (see %s)", errGatewayDied, r.Test, gatewayLog.Name())
		}
		if r.Outcome == failed {
			nFailed++
		}
		results = append(results, r)
		if (i+1)%500 == 0 {
			logf("%d/%d tests, %d failed before overrides", i+1, len(tests), nFailed)
		}
	}
	took := time.Since(start)

	applyOverrides(results, overrides)
	t := count(results)
	sum := summary(t, o.threshold, version, took)
	failures := o.failures
	if failures == "" {
		failures = filepath.Join(out, "failures.txt")
	}
	if err := writeFailures(failures, results); err != nil {
		return 0, err
	}
	if err := writeMarkdown(filepath.Join(out, "results.md"), results, sum); err != nil {
		return 0, err
	}
	fmt.Fprint(stdout, sum)
	fmt.Fprintf(stdout, "failures and overrides: %s (Markdown: %s)\n", failures, filepath.Join(out, "results.md"))
	if t.rate() < o.threshold {
		return 1, nil
	}
	return 0, nil
}
