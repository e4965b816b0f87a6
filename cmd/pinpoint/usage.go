package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

func newUsageCmd(c *cli) *cobra.Command {
	var (
		q     admin.AIUsageQuery
		since string
		by    string
	)
	cmd := &cobra.Command{
		Use:   "usage [--since 24h | --from T [--to T]] [--by consumer,model] [--consumer C] [--model M] ...",
		Short: "AI calls, tokens and cost, summed per consumer, model, day, ...",
		Long: `Usage reads the usage records of the AI gateway (one per AI call) and prints,
per group of --by, the calls, the calls answered with an error (status 400 or
more, refusals by the gateway included), the input, output and cached input
tokens, and the exact cost in USD, then the total of the range.

--by takes a comma-separated list of consumer, tenant, credential, model,
provider, route and day (a UTC date); --by "" prints the total only. A call
without auth has no consumer, tenant or credential: "-" in the table.`,
		Example: `  pinpoint usage
  pinpoint usage --since 7d --by day
  pinpoint usage --since 30d --by tenant,provider --model fast
  pinpoint usage --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z --consumer acme-app --by model,day
  pinpoint usage -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := cmd.Flags()
			if flags.Changed("since") && flags.Changed("from") {
				return usagef("--since and --from both set the start of the range: give one")
			}
			now := time.Now()
			start, flag := since, "--since"
			if q.From != "" {
				start, flag = q.From, "--from"
			}
			from, err := admin.ParseSince(start, now)
			if err != nil {
				return usagef("%s %q: %v", flag, start, err)
			}
			to := now
			if q.To != "" {
				if to, err = admin.ParseSince(q.To, now); err != nil {
					return usagef("--to %q: %v", q.To, err)
				}
			}
			if !to.After(from) {
				return usagef("--to must be after the start of the range")
			}
			if q.GroupBy, err = parseUsageBy(by); err != nil {
				return usageError{err}
			}
			q.From, q.To = from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)
			return c.run(func(client *admin.Client) error {
				rep, err := client.AIUsage(cmd.Context(), q)
				if err != nil {
					return err
				}
				if c.output == "json" {
					c.printJSON(rep)
					return nil
				}
				c.printUsage(rep)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "24h", "start of the range as an age (15m, 24h, 7d) or an RFC 3339 time")
	fl.StringVar(&q.From, "from", "", "start of the range, inclusive: an RFC 3339 time or an age (instead of --since)")
	fl.StringVar(&q.To, "to", "", "end of the range, exclusive: an RFC 3339 time or an age (default now)")
	fl.StringVar(&by, "by", strings.Join(admin.DefaultAIUsageGroupBy, ","),
		"group by these keys: "+strings.Join(store.AIUsageGroupKeys, ", ")+` ("": the total only)`)
	fl.StringVar(&q.Consumer, "consumer", "", "only this consumer's calls")
	fl.StringVar(&q.Tenant, "tenant", "", "only the calls of this tenant's consumers")
	fl.StringVar(&q.Model, "model", "", "only the calls to this model (an ai.models name)")
	fl.StringVar(&q.Route, "route", "", "only the calls through this route")
	fl.StringVar(&q.Provider, "provider", "", "only the calls this provider served")
	return cmd
}

// parseUsageBy reads --by: distinct group keys, comma-separated; "" is an
// empty, non-nil list (the total only).
func parseUsageBy(s string) ([]string, error) {
	keys := []string{}
	if strings.TrimSpace(s) == "" {
		return keys, nil
	}
	for k := range strings.SplitSeq(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case !slices.Contains(store.AIUsageGroupKeys, k):
			return nil, fmt.Errorf("--by: unknown key %q; want %s", k, strings.Join(store.AIUsageGroupKeys, ", "))
		case slices.Contains(keys, k):
			return nil, fmt.Errorf("--by: %q given twice", k)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// printUsage prints a usage report as a table with a TOTAL line.
func (c *cli) printUsage(rep *admin.AIUsageReport) {
	w := c.stdout
	fmt.Fprintf(w, "%s to %s\n", c.formatTime(rep.From), c.formatTime(rep.To))
	if len(rep.Groups) == 0 {
		fmt.Fprintln(w, "No AI calls in this range.")
		return
	}
	fmt.Fprintln(w)
	// One column per key; without keys, one for the TOTAL label.
	header := make([]string, max(len(rep.GroupBy), 1))
	for i, k := range rep.GroupBy {
		header[i] = strings.ToUpper(k)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(keys ...string) func(admin.AIUsageSums) {
		return func(s admin.AIUsageSums) {
			fmt.Fprintln(tw, strings.Join(slices.Concat(keys, []string{strconv.FormatInt(s.Calls, 10),
				strconv.FormatInt(s.Errors, 10), strconv.FormatInt(s.InputTokens, 10),
				strconv.FormatInt(s.OutputTokens, 10), strconv.FormatInt(s.CachedTokens, 10), s.CostUSD}), "\t"))
		}
	}
	fmt.Fprintln(tw, strings.Join(slices.Concat(header, []string{"CALLS", "ERRORS", "INPUT", "OUTPUT", "CACHED", "COST_USD"}), "\t"))
	if len(rep.GroupBy) > 0 {
		for _, g := range rep.Groups {
			keys := make([]string, len(rep.GroupBy))
			for i, k := range rep.GroupBy {
				keys[i] = dash(g.Keys[k])
			}
			row(keys...)(g.AIUsageSums)
		}
	}
	total := make([]string, len(header))
	total[0] = "TOTAL"
	row(total...)(rep.Total)
	_ = tw.Flush()
}
