package main

import (
	"fmt"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

func newQuotasCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "quotas",
		Aliases: []string{"quota"},
		Short:   "Show how much of its calendar quotas a caller has used",
		Long: `Routes can declare calendar quotas (requests per day or month, by consumer,
tenant or credential, with limits by plan). 'quotas usage' shows a caller's
count in the current period, its limit (its plan's, from the consumer's
metadata) and when the count starts again; 'quotas history' lists the
counters of past periods kept in the gateway's store.`,
		Example: `  pinpoint quotas usage --consumer orders-app
  pinpoint quotas usage --tenant acme --route orders --quota monthly
  pinpoint quotas history --consumer orders-app --since 90d`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newQuotaUsageCmd(c), newQuotaHistoryCmd(c))
	return cmd
}

// callerFlags name the caller of a quota command.
type callerFlags struct{ consumer, tenant, credential, ip string }

func (f *callerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.consumer, "consumer", "", "consumer id")
	fl.StringVar(&f.tenant, "tenant", "", "tenant id")
	fl.StringVar(&f.credential, "credential", "", "credential: an API key's prefix (pp_live_k7f3a9c2d1e0) or id, a basic user name, ...")
	fl.StringVar(&f.ip, "ip", "", "client IP address (unauthenticated callers)")
}

// key returns the caller as "kind:id"; "" when no flag is set and the
// caller is optional.
func (f *callerFlags) key(required bool) (string, error) {
	var key string
	for _, k := range []struct{ kind, id string }{
		{"consumer", f.consumer}, {"tenant", f.tenant}, {"credential", f.credential}, {"ip", f.ip},
	} {
		if k.id == "" {
			continue
		}
		if key != "" {
			return "", usagef("give one of --consumer, --tenant, --credential or --ip")
		}
		if k.kind == "ip" {
			if _, err := netip.ParseAddr(k.id); err != nil {
				return "", usagef("--ip %q: want an IP address such as 192.0.2.7 or 2001:db8::7", k.id)
			}
		}
		key = k.kind + ":" + k.id
	}
	if key == "" && required {
		return "", usagef("one of --consumer, --tenant, --credential or --ip is required")
	}
	return key, nil
}

func newQuotaUsageCmd(c *cli) *cobra.Command {
	var (
		who callerFlags
		q   admin.QuotaQuery
	)
	cmd := &cobra.Command{
		Use:   "usage --consumer ID | --tenant ID | --credential ID | --ip ADDR [--route R] [--quota Q]",
		Short: "A caller's quota usage in the current period",
		Long: `Usage prints, for every quota of every route (or of --route, or only --quota),
the counter the caller's requests are counted in, with the count, the limit,
what remains and when the period ends. A consumer's tenant quotas show its
tenant's counter (KEY tenant:...), and a credential's consumer and tenant
quotas its consumer's or tenant's. The limit is the caller's plan's (PLAN,
from the consumer's metadata field the quota names in plan_field) or the
quota's default (-). Quotas with store: local include what the gateway has
counted but not yet written to its store.`,
		Example: `  pinpoint quotas usage --consumer orders-app
  pinpoint quotas usage --tenant acme --route orders --quota monthly
  pinpoint quotas usage --credential pp_live_k7f3a9c2d1e0 -o json
  pinpoint quotas usage --ip 192.0.2.7`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if q.Key, err = who.key(true); err != nil {
				return err
			}
			return c.run(func(client *admin.Client) error {
				list, err := client.QuotaUsage(cmd.Context(), q)
				if err != nil {
					return err
				}
				if c.output == "json" {
					c.printJSON(map[string]any{"usage": list})
					return nil
				}
				if len(list) == 0 {
					fmt.Fprintf(c.stderr, "no quota counts %s\n", q.Key)
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ROUTE\tQUOTA\tKEY\tUSED\tLIMIT\tREMAINING\tRESETS\tPLAN\tSTORE")
				for _, u := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", u.Route, u.Quota, u.Key, u.Used, u.Limit,
						u.Remaining, c.formatTime(u.Reset), dash(u.Plan), u.Store)
				}
				return tw.Flush()
			})
		},
	}
	who.add(cmd)
	cmd.Flags().StringVar(&q.Route, "route", "", "only this route's quotas")
	cmd.Flags().StringVar(&q.Quota, "quota", "", "only the quota of this name")
	return cmd
}

func newQuotaHistoryCmd(c *cli) *cobra.Command {
	var (
		who callerFlags
		f   admin.QuotaHistoryFilter
	)
	cmd := &cobra.Command{
		Use:   "history [--consumer ID | --tenant ID | --credential ID | --ip ADDR] [--route R] [--quota Q] [--since 90d]",
		Short: "Stored quota counters of past and current periods",
		Long: `History lists the quota counters the gateway keeps in its store, newest period
first: the period's start, route, quota, caller key, count and when the count
last changed. Only quotas with store: local are kept there (written every
second and at shutdown, for 400 days); Redis quotas expire with their period
and have no history. Without a caller flag every caller's counters are listed;
routes and quotas no longer configured keep theirs until they age out.`,
		Example: `  pinpoint quotas history --consumer orders-app --since 90d
  pinpoint quotas history --route orders --quota monthly --limit 500
  pinpoint quotas history --tenant acme -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Key, err = who.key(false); err != nil {
				return err
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
			return c.run(func(client *admin.Client) error {
				list, err := client.QuotaHistory(cmd.Context(), f)
				if err != nil {
					return err
				}
				if c.output == "json" {
					if list == nil {
						list = []store.QuotaUsage{}
					}
					c.printJSON(map[string]any{"history": list})
					return nil
				}
				if len(list) == 0 {
					fmt.Fprintln(c.stderr, "no stored quota counters match")
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PERIOD\tROUTE\tQUOTA\tKEY\tUSED\tUPDATED")
				for _, u := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.formatTime(u.Period), u.Route, u.Quota, u.Key,
						u.Used, c.formatTime(u.UpdatedAt))
				}
				return tw.Flush()
			})
		},
	}
	who.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.Route, "route", "", "only this route's counters")
	fl.StringVar(&f.Quota, "quota", "", "only the quota of this name")
	fl.StringVar(&f.Since, "since", "", "periods starting at or after: an age (90d, 720h) or an RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 100, "how many counters to list (1-10000)")
	return cmd
}
