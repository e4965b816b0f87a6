package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

func newLogsCmd(c *cli) *cobra.Command {
	var (
		f      admin.CallFilter
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the call log: recent requests and why they were refused",
		Long: `Logs prints the gateway's call log, oldest first: time, status, method, host and
path, then the reason code of a refusal, the route, the latency and the
request id. Pass the request id to 'pinpoint explain' (or look for it in the
X-Request-Id header a client received) to see the full decision.

Filters combine: --status takes an exact status (404) or a class (4xx);
--since takes an age (15m, 2h, 7d) or an RFC 3339 time. With --follow the
command keeps printing new records as they arrive until interrupted (Ctrl-C).
With -o json each record is one JSON object per line.`,
		Example: `  # The last 50 refusals of the last quarter hour
  pinpoint logs --status 4xx --since 15m

  # Every request refused for a missing scope on the orders route, live
  pinpoint logs --code authz.scope_missing --route orders --follow

  # One request
  pinpoint logs --request-id 01JD3F...
  pinpoint logs --consumer orders-app --status 4xx`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.checkCallFilter(&f); err != nil {
				return err
			}
			return c.logs(cmd.Context(), f, follow)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "exact status (404) or class (4xx)")
	fl.StringVar(&f.Code, "code", "", "reason code, e.g. route.not_found")
	fl.StringVar(&f.Route, "route", "", "route name")
	fl.StringVar(&f.Since, "since", "", "age (15m, 2h, 7d) or RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 50, "how many of the newest matching records to print (1-10000)")
	fl.StringVar(&f.RequestID, "request-id", "", "one request's id")
	fl.StringVar(&f.Consumer, "consumer", "", "only requests of this consumer")
	fl.BoolVarP(&follow, "follow", "F", false, "keep printing new records until interrupted")
	return cmd
}

// checkCallFilter validates the flags locally, so that mistakes are usage
// errors, and turns a relative --since into a fixed time so that --follow
// keeps one window.
func (c *cli) checkCallFilter(f *admin.CallFilter) error {
	if f.Status != "" && !validStatusFilter(f.Status) {
		return usagef("--status %q: want a status such as 404 or a class such as 4xx", f.Status)
	}
	if f.Limit < 1 || f.Limit > 10000 {
		return usagef("--limit must be between 1 and 10000")
	}
	if f.Since != "" {
		t, err := admin.ParseSince(f.Since, time.Now())
		if err != nil {
			return usagef("--since %q: %v", f.Since, err)
		}
		f.Since = t.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

func validStatusFilter(s string) bool {
	if len(s) != 3 || s[0] < '1' || s[0] > '5' {
		return false
	}
	rest := strings.ToLower(s[1:])
	return rest == "xx" || (rest[0] >= '0' && rest[0] <= '9' && rest[1] >= '0' && rest[1] <= '9')
}

func (c *cli) logs(ctx context.Context, f admin.CallFilter, follow bool) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	fetch := func(ctx context.Context, after int64, following bool) ([]store.Call, error) {
		if following {
			f.After, f.Ascending, f.Limit = after, true, followPage
		}
		return client.Calls(ctx, f)
	}
	return tail(ctx, c, fetch, func(call store.Call) int64 { return call.Seq }, c.printCall, "no matching calls", follow)
}

// printCall prints one record:
//
//	2026-01-02T15:04:05Z 404 GET api.example.com/nope code=route.not_found latency=1.2ms id=01JD...
func (c *cli) printCall(call store.Call) {
	if c.output == "json" {
		c.printJSONLine(callJSON(call))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s %s%s", c.formatTime(call.Time), call.Status, call.Method, call.Host, call.Path)
	if call.Code != "" {
		b.WriteString(" code=" + call.Code)
	}
	if call.Layer == "upstream" {
		b.WriteString(" layer=upstream")
	}
	if call.Route != "" {
		b.WriteString(" route=" + call.Route)
	}
	fmt.Fprintf(&b, " latency=%s id=%s", call.Latency.Round(time.Microsecond), call.RequestID)
	fmt.Fprintln(c.stdout, b.String())
}
