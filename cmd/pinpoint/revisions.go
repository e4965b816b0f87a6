package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

func newRevisionsCmd(c *cli) *cobra.Command {
	var (
		limit  int
		before int64
	)
	cmd := &cobra.Command{
		Use:     "revisions",
		Aliases: []string{"revision", "rev"},
		Short:   "List configuration revisions",
		Long: `Every configuration the gateway has applied is a numbered revision with its
time, author, source (admin-api, file:PATH, rollback:N, ...) and a summary of
what changed. This lists them, newest first; 'revisions show N' prints one with
its document and 'revisions rollback N' applies an old one again.`,
		Example: `  pinpoint revisions
  pinpoint revisions --limit 5
  pinpoint revisions --before 40   # page back: revisions below 40`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return usagef("--limit must be between 1 and 1000")
			}
			if before < 0 {
				return usagef("--before must not be negative")
			}
			return c.listRevisions(cmd, limit, before)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many revisions to list (1-1000)")
	cmd.Flags().Int64Var(&before, "before", 0, "list only revisions numbered below this one")
	cmd.AddCommand(newRevisionShowCmd(c), newRollbackCmd(c))
	return cmd
}

func newRevisionShowCmd(c *cli) *cobra.Command {
	var docOnly bool
	cmd := &cobra.Command{
		Use:   "show N|current",
		Short: "Print one revision with its configuration document",
		Long: `Show prints a revision's number, time, author, source, hash and change summary,
then the configuration document as it was applied (${NAME} references are kept
unexpanded, so no secret is printed). "current" is the revision being served.
With --document only the document is printed, ready to edit and apply.`,
		Example: `  pinpoint revisions show 12
  pinpoint revisions show current --document > running.yaml`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.client()
			if err != nil {
				return err
			}
			var rev store.Revision
			if args[0] == "current" {
				rev, err = client.CurrentRevision(cmd.Context())
			} else {
				n, perr := parseRevision(args[0])
				if perr != nil {
					return perr
				}
				rev, err = client.Revision(cmd.Context(), n)
			}
			if err != nil {
				return c.fail(err)
			}
			if docOnly {
				_, err := c.stdout.Write(rev.Document)
				return err
			}
			c.printRevision(rev)
			return nil
		},
	}
	cmd.Flags().BoolVar(&docOnly, "document", false, "print only the configuration document")
	return cmd
}

func newRollbackCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback N",
		Short: "Apply an earlier revision's configuration again",
		Long: `Rollback takes revision N's document and applies it as a new revision (source
"rollback:N"), so history is never rewritten: the rollback itself is in the
list and can be rolled back too. It is validated like any apply; if N's
document is already the running one, nothing changes.`,
		Example: `  pinpoint revisions            # find the last good revision
  pinpoint revisions rollback 41`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseRevision(args[0])
			if err != nil {
				return err
			}
			client, err := c.client()
			if err != nil {
				return err
			}
			res, err := client.Rollback(cmd.Context(), n)
			if err != nil {
				return c.applyFailure("revision "+args[0], err)
			}
			if c.output == "json" {
				c.printJSON(admin.ApplyResultView(res))
				return nil
			}
			c.printResult(res, "rolled back to revision "+args[0]+" as revision %d\n")
			return nil
		},
	}
}

func parseRevision(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, usagef("revision %q: want a positive number", s)
	}
	return n, nil
}

func (c *cli) listRevisions(cmd *cobra.Command, limit int, before int64) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	revs, err := client.Revisions(cmd.Context(), limit, before)
	if err != nil {
		return c.fail(err)
	}
	if c.output == "json" {
		out := make([]admin.RevisionJSON, len(revs))
		for i, r := range revs {
			out[i] = admin.RevisionView(r)
		}
		c.printJSON(map[string]any{"revisions": out})
		return nil
	}
	if len(revs) == 0 {
		fmt.Fprintln(c.stdout, "no revisions yet; apply a configuration with 'pinpoint apply -f FILE'")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tAUTHOR\tSOURCE\tSUMMARY")
	for _, r := range revs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Number, c.formatTime(r.CreatedAt),
			orDash(r.Author), orDash(r.Source), summaryLine(r.Summary))
	}
	return tw.Flush()
}

// summaryLine is a summary's first line, with a count of the lines left out.
func summaryLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 {
		return orDash(lines[0])
	}
	return fmt.Sprintf("%s (+%d more)", lines[0], len(lines)-1)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) printRevision(r store.Revision) {
	if c.output == "json" {
		c.printJSON(admin.RevisionView(r))
		return
	}
	w := c.stdout
	fmt.Fprintf(w, "revision:  %d\n", r.Number)
	fmt.Fprintf(w, "created:   %s\n", c.formatTime(r.CreatedAt))
	fmt.Fprintf(w, "author:    %s\n", orDash(r.Author))
	fmt.Fprintf(w, "source:    %s\n", orDash(r.Source))
	fmt.Fprintf(w, "hash:      %s\n", orDash(r.Hash))
	summary := strings.Split(strings.TrimRight(r.Summary, "\n"), "\n")
	fmt.Fprintf(w, "summary:   %s\n", orDash(summary[0]))
	for _, line := range summary[1:] {
		fmt.Fprintf(w, "           %s\n", line)
	}
	fmt.Fprintln(w, "---")
	doc := string(r.Document)
	fmt.Fprint(w, doc)
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		fmt.Fprintln(w)
	}
}
