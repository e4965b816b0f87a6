package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// corpusVersion is the version of the coraza-coreruleset module whose
// corpus is embedded, from the build info ("" when unknown).
func corpusVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range info.Deps {
		if m.Path == "github.com/corazawaf/coraza-coreruleset/v4" {
			return m.Version
		}
	}
	return ""
}

// summary is the end-of-run text: the counts, the pass rate and the
// threshold verdict.
func summary(t tally, threshold float64, corpus string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CRS regression corpus %s through Pinpoint: %d tests in %s\n", corpus, t.total(), took.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  passed      %5d", t.Passed)
	if t.PassedRefused > 0 {
		fmt.Fprintf(&b, "  (%d of them refused by the gateway before the WAF, expecting no rule)", t.PassedRefused)
	}
	fmt.Fprintf(&b, "\n  failed      %5d\n  overridden  %5d  (explained and verified: see the overrides file)\n", t.Failed, t.Overridden)
	if t.Stale > 0 {
		fmt.Fprintf(&b, "  WARNING: %d overrides are stale (their tests pass): remove them from the overrides file\n", t.Stale)
	}
	if n := t.total(); n > 0 {
		fmt.Fprintf(&b, "passed outright: %d of %d tests run (%.2f %%)\n", t.Passed, n, 100*float64(t.Passed)/float64(n))
	}
	verdict := "met"
	if t.rate() < threshold {
		verdict = "NOT met"
	}
	fmt.Fprintf(&b, "pass rate %.2f %% = passed / (passed + failed) = %d / %d; threshold %.2f %%: %s\n",
		t.rate(), t.Passed, t.Passed+t.Failed, threshold, verdict)
	return b.String()
}

// writeFailures writes every result that is not a plain pass to path, one
// tab-separated line each: outcome, test, rule, reason, and what the
// gateway answered and which rules fired.
func writeFailures(path string, results []result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	writeFailureLines(w, results)
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// writeFailureLines writes the lines of writeFailures.
func writeFailureLines(w io.Writer, results []result) {
	fmt.Fprintln(w, "# outcome\ttest\trule\treason\tseen")
	for _, want := range []outcome{failed, overridden} {
		for i := range results {
			r := &results[i]
			if r.Outcome == want {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", r.Outcome, r.Test, r.Rule, oneLine(r.Reason), r.describe())
			}
		}
	}
	for i := range results {
		r := &results[i]
		if r.StaleOverride != "" {
			fmt.Fprintf(w, "stale-override\t%s\t%d\t%s\t%s\n", r.Test, r.Rule, oneLine(r.StaleOverride), r.describe())
		}
	}
}

// writeMarkdown writes the run as Markdown for docs/waf-crs-regression.md:
// the counts, then a table of failures and one of overrides.
func writeMarkdown(path string, results []result, sum string) error {
	var b strings.Builder
	b.WriteString("```\n" + sum + "```\n")
	table := func(title string, want outcome) {
		var rows []string
		for i := range results {
			r := &results[i]
			if r.Outcome == want {
				rows = append(rows, fmt.Sprintf("| %s | %s | %s |", r.Test, mdCell(r.Reason), mdCell(r.describe())))
			}
		}
		fmt.Fprintf(&b, "\n### %s (%d)\n\n", title, len(rows))
		if len(rows) == 0 {
			b.WriteString("None.\n")
			return
		}
		b.WriteString("| test | reason | seen |\n|---|---|---|\n")
		b.WriteString(strings.Join(rows, "\n") + "\n")
	}
	table("Failed", failed)
	table("Overridden", overridden)
	var refused []string
	for i := range results {
		if r := &results[i]; r.Outcome == passed && r.refusedByGateway() {
			refused = append(refused, fmt.Sprintf("| %s | %s |", r.Test, mdCell(r.describe())))
		}
	}
	fmt.Fprintf(&b, "\n### Passed, refused by the gateway before the WAF (%d)\n\n", len(refused))
	if len(refused) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| test | seen |\n|---|---|\n" + strings.Join(refused, "\n") + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// oneLine keeps a reason on its line of a tab-separated file.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mdCell makes s safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
