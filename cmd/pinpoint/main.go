// Command pinpoint is the Pinpoint API gateway and its command-line client:
// `pinpoint serve` runs the gateway; the other commands validate and apply
// configuration, inspect revisions and read the call log through the admin API.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	// Quotas count by calendar days and months in IANA time zones; the
	// zone database is embedded so a minimal host without one still works.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cli{
		stdin:        os.Stdin,
		stdout:       os.Stdout,
		stderr:       os.Stderr,
		lookupEnv:    os.LookupEnv,
		httpClient:   &http.Client{Timeout: 60 * time.Second},
		loc:          time.Local,
		pollInterval: time.Second,
	})
	stop()
	os.Exit(code)
}
