package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
)

func newApplyCmd(c *cli) *cobra.Command {
	var (
		file   string
		dryRun bool
		window admin.ImpactWindow
		noImp  bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--dry-run]",
		Short: "Apply a configuration file to the running gateway",
		Long: `Apply sends a configuration file to the running gateway through its admin API.
The gateway validates it whole; if it is valid and differs from the running
configuration, it becomes a new numbered revision and is swapped in without
dropping requests. The changes are printed as a summary, one line per object:
"+" added, "-" removed, "~" changed.

If the file has errors, nothing is applied: every error is printed with file,
line, column and field path, and the command exits with status 1.

With --dry-run the gateway validates and diffs the file but applies nothing,
and replays recent real requests (their decision inputs from the call log:
the newest --impact-limit of the last --impact-since) through the running and
the proposed configuration, both simulated, and lists the requests that would
change outcome (newly denied, newly allowed, another reason code), grouped by
route, consumer and code, with example request ids for 'pinpoint explain'.
${NAME} references are resolved by the gateway, from its own environment.

A gateway started with 'pinpoint serve --config FILE' is owned by that file and
refuses applies; edit the file instead.`,
		Example: `  # See what would change, then apply
  pinpoint apply -f gateway.yaml --dry-run
  pinpoint apply -f gateway.yaml

  # Apply to a gateway elsewhere
  pinpoint apply -f gateway.yaml --admin http://10.0.0.7:9901 --token "$TOKEN"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-f FILE is required")
			}
			window.Off = noImp
			if !dryRun && (cmd.Flags().Changed("impact-limit") || cmd.Flags().Changed("impact-since") || noImp) {
				return usagef("--impact-limit, --impact-since and --no-impact go with --dry-run")
			}
			return c.apply(cmd, file, dryRun, window)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file to apply (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and show the changes without applying them")
	cmd.Flags().IntVar(&window.Limit, "impact-limit", admin.DefaultImpactLimit, "with --dry-run: replay at most this many recent requests (at most 10000)")
	cmd.Flags().DurationVar(&window.Since, "impact-since", admin.DefaultImpactSince, "with --dry-run: replay requests of this last period (at most 24h)")
	cmd.Flags().BoolVar(&noImp, "no-impact", false, "with --dry-run: do not replay recent requests")
	return cmd
}

func (c *cli) apply(cmd *cobra.Command, file string, dryRun bool, window admin.ImpactWindow) error {
	name, doc, err := c.readDocument(file)
	if err != nil {
		return err
	}
	client, err := c.client()
	if err != nil {
		return err
	}
	var res admin.ApplyResult
	if dryRun {
		res, err = client.DryRun(cmd.Context(), name, doc, window)
	} else {
		res, err = client.Apply(cmd.Context(), name, doc, false)
	}
	if err != nil {
		return c.applyFailure(name, err)
	}
	if c.output == "json" {
		c.printJSON(admin.ApplyResultView(res))
		return nil
	}
	c.printResult(res, "applied as revision %d\n")
	c.printImpact(res.Impact)
	return nil
}

// applyFailure prints a rejected document's errors one per line.
func (c *cli) applyFailure(name string, err error) error {
	return c.documentFailure(name, err, "nothing was applied")
}

// documentFailure prints a rejected document's errors one per line and
// then what did not happen.
func (c *cli) documentFailure(name string, err error, outcome string) error {
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity {
		return c.fail(err)
	}
	if c.output == "json" {
		c.printJSON(apiErr.Problem)
		return errReported
	}
	list := apiErr.ConfigErrors()
	for _, e := range list {
		fmt.Fprintln(c.stderr, e.String())
	}
	fmt.Fprintf(c.stderr, "%s: %s; %s\n", name, plural(len(list), "error"), outcome)
	return errReported
}

// printResult prints an apply or rollback result; format reports a new
// revision's number.
func (c *cli) printResult(res admin.ApplyResult, format string) {
	if !res.Unchanged {
		if diff := strings.TrimRight(res.Diff, "\n"); diff != "" {
			fmt.Fprintln(c.stdout, diff)
		}
	}
	switch {
	case res.DryRun && res.Unchanged:
		fmt.Fprintln(c.stdout, "dry run: no changes")
	case res.DryRun:
		fmt.Fprintln(c.stdout, "dry run: the configuration is valid; nothing was applied")
	case res.Unchanged && res.Revision.Number > 0:
		fmt.Fprintf(c.stdout, "no changes: revision %d stays current\n", res.Revision.Number)
	case res.Unchanged:
		fmt.Fprintln(c.stdout, "no changes")
	default:
		fmt.Fprintf(c.stdout, format, res.Revision.Number)
	}
}
