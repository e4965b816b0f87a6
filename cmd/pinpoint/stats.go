package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/analytics"
)

// statsTrendPoints is about how many intervals the trend prints.
const statsTrendPoints = 12

func newStatsCmd(c *cli) *cobra.Command {
	var (
		q       admin.StatsQuery
		step    string
		asJSON  bool
		noTrend bool
	)
	cmd := &cobra.Command{
		Use:   "stats [--since 1h] [--until T] [--route R] [--consumer C] [--code CODE] [--json]",
		Short: "Traffic and refusals from the analytics roll-ups",
		Long: `Stats reads the analytics roll-ups (per-minute counts kept apart from the call
log, merged over every node) and prints, for the range: requests by status
class, refusals and their share, upstream errors, latency percentiles (within
1 %), the top routes, the top denial codes, the top refused consumers, the
refusals report_only rules would have made (would-deny, never counted as
refusals), and a trend: requests, refusals and their share per interval.

A refusal is an answer the gateway wrote itself (a reason code of layer
gateway); a backend's own 401/403/5xx passed through is counted by its status
class and as an upstream error, not as a refusal. With --code the counts are
of the requests refused with that code.`,
		Example: `  pinpoint stats
  pinpoint stats --since 24h --route orders
  pinpoint stats --since 7d --consumer orders-app --step 1d
  pinpoint stats --since 2026-12-01T14:00:00Z --until 2026-12-01T15:00:00Z --code authz.scope_missing
  pinpoint stats --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			since, err := admin.ParseSince(q.Since, now)
			if err != nil {
				return usagef("--since %q: %v", q.Since, err)
			}
			until := now
			if q.Until != "" {
				if until, err = admin.ParseSince(q.Until, now); err != nil {
					return usagef("--until %q: %v", q.Until, err)
				}
			}
			if !until.After(since) {
				return usagef("--until must be after --since")
			}
			if q.Limit < 1 || q.Limit > 100 {
				return usagef("--top must be between 1 and 100")
			}
			if step == "" {
				step = analytics.AutoStep(until.Sub(since), statsTrendPoints).String()
			} else if _, err := analytics.ParseStep(step); err != nil {
				return usagef("--step %q: %v", step, err)
			}
			// Both ends are sent as times, so summary and trend cover the same range.
			q.Since, q.Until = since.UTC().Format(time.RFC3339Nano), until.UTC().Format(time.RFC3339Nano)
			if asJSON {
				c.output = "json"
			}
			return c.run(func(client *admin.Client) error {
				s, err := client.StatsSummary(cmd.Context(), q)
				if err != nil {
					return err
				}
				var series *analytics.Series
				if !noTrend {
					if series, err = client.StatsSeries(cmd.Context(), q, step); err != nil {
						return err
					}
				}
				if c.output == "json" {
					out := map[string]any{"summary": s}
					if series != nil {
						out["trend"] = series
					}
					c.printJSON(out)
					return nil
				}
				c.printStats(s, series)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.Since, "since", "1h", "start of the range: an age (15m, 24h, 7d) or an RFC 3339 time")
	fl.StringVar(&q.Until, "until", "", "end of the range: an age or an RFC 3339 time (default now)")
	fl.StringVar(&q.Route, "route", "", "only this route's requests")
	fl.StringVar(&q.Consumer, "consumer", "", "only this consumer's requests")
	fl.StringVar(&q.Code, "code", "", "only the requests refused with this reason code")
	fl.IntVar(&q.Limit, "top", 5, "entries per top list (1-100)")
	fl.StringVar(&step, "step", "", "trend interval: 5m, 1h, 1d, ... (default: about 12 intervals)")
	fl.BoolVar(&asJSON, "json", false, "print JSON (same as -o json)")
	fl.BoolVar(&noTrend, "no-trend", false, "leave out the trend")
	return cmd
}

// printStats prints a summary and its trend for people.
func (c *cli) printStats(s *analytics.Summary, series *analytics.Series) {
	w := c.stdout
	fmt.Fprintf(w, "%s to %s\n\n", c.formatTime(s.Since), c.formatTime(s.Until))
	fmt.Fprintf(w, "  requests         %d", s.Requests)
	for _, class := range []string{"2xx", "3xx", "4xx", "5xx", "other"} {
		if n := s.Status[class]; n > 0 {
			fmt.Fprintf(w, "   %s %d", class, n)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  refused          %d (%s)\n", s.Denied, percent(s.DenialShare))
	fmt.Fprintf(w, "  upstream errors  %d\n", s.UpstreamErrors)
	fmt.Fprintf(w, "  would-deny       %d (report_only rules; the requests were allowed)\n", s.WouldDeny)
	if s.Requests > 0 {
		fmt.Fprintf(w, "  latency          p50 %s   p90 %s   p99 %s   mean %s\n",
			millis(s.Latency.P50), millis(s.Latency.P90), millis(s.Latency.P99), millis(s.Latency.Mean))
	}

	section(w, "TOP ROUTES", len(s.TopRoutes), func(tw io.Writer) {
		fmt.Fprintln(tw, "ROUTE\tREQUESTS\tSHARE\tREFUSED\tREFUSED %")
		for _, e := range s.TopRoutes {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", e.Name, e.Count, percent(e.Share), e.Denied, percent(ratio(e.Denied, e.Requests)))
		}
	})
	section(w, "TOP DENIAL CODES", len(s.TopCodes), func(tw io.Writer) {
		fmt.Fprintln(tw, "CODE\tREFUSED\tSHARE")
		for _, e := range s.TopCodes {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Name, e.Count, percent(e.Share))
		}
	})
	section(w, "TOP REFUSED CONSUMERS", len(s.TopConsumers), func(tw io.Writer) {
		fmt.Fprintln(tw, "CONSUMER\tREFUSED\tSHARE\tOF ITS REQUESTS")
		for _, e := range s.TopConsumers {
			name := e.Name
			if name == "" {
				name = "(anonymous)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", name, e.Count, percent(e.Share), percent(ratio(e.Denied, e.Requests)))
		}
	})
	section(w, "WOULD-DENY (report_only)", len(s.TopWouldDeny), func(tw io.Writer) {
		fmt.Fprintln(tw, "RULE\tCODE\tSTAGE\tCOUNT\tSHARE")
		for _, e := range s.TopWouldDeny {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", dash(e.Rule), e.Code, e.Stage, e.Count, percent(e.Share))
		}
	})
	if series == nil {
		return
	}
	section(w, "TREND (every "+shortDuration(series.StepNs)+")", len(series.Points), func(tw io.Writer) {
		fmt.Fprintln(tw, "FROM\tREQUESTS\tREFUSED\tREFUSED %\tUPSTREAM ERRORS\tWOULD-DENY\tP99")
		for _, p := range series.Points {
			p99 := "-"
			if p.Requests > 0 {
				p99 = millis(p.Latency.P99)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\n", c.formatTime(p.Time), p.Requests, p.Denied,
				percent(p.DenialShare), p.UpstreamErrors, p.WouldDeny, p99)
		}
	})
}

// section prints a titled table, or "none" when it has no rows.
func section(w io.Writer, title string, rows int, body func(io.Writer)) {
	fmt.Fprintf(w, "\n%s\n", title)
	if rows == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	body(tw)
	_ = tw.Flush()
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

func millis(ms float64) string {
	if ms >= 100 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
}

// shortDuration prints 5m, 1h, 1d rather than 5m0s, 1h0m0s, 24h0m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}
