package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

func newMigrateCmd(c *cli) *cobra.Command {
	var storeFlag, dataDir string
	cmd := &cobra.Command{
		Use:   "migrate up|status",
		Short: "Apply or list the store's schema migrations",
		Long: `Migrate applies the schema migrations this binary embeds to the store, or
lists which are applied. 'pinpoint serve' applies them itself at start; run
'migrate up' ahead of a rolling upgrade of several nodes sharing one
PostgreSQL database so no node starts on a half-migrated schema.

The store is --store (or $PINPOINT_STORE): a postgres:// URL, or a SQLite
file (default DATA_DIR/pinpoint.db). A database migrated by a newer
Pinpoint is refused, never downgraded.`,
		Example: `  pinpoint migrate status --store postgres://pinpoint@db.internal:5432/pinpoint
  PINPOINT_STORE=postgres://pinpoint@db.internal/pinpoint pinpoint migrate up`,
		Args:      usageArgs(cobra.ExactArgs(1)),
		ValidArgs: []string{"up", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "up" && args[0] != "status" {
				return usagef("migrate %q: want up or status", args[0])
			}
			loc, err := storeLocation(storeFlag, dataDir)
			if err != nil {
				return err
			}
			return c.migrate(cmd.Context(), loc, args[0])
		},
	}
	cmd.Flags().StringVar(&storeFlag, "store", "", "postgres:// URL or SQLite file (env "+envStore+"; default DATA_DIR/pinpoint.db)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "pinpoint-data", "directory of the default SQLite store")
	return cmd
}

// migrationRow is one line of `pinpoint migrate` output.
type migrationRow struct {
	Version int64  `json:"version"`
	Name    string `json:"name,omitempty"`
	Applied bool   `json:"applied"`
	At      string `json:"applied_at,omitempty"`
}

func (c *cli) migrate(ctx context.Context, loc, command string) error {
	var rows []migrationRow
	if isPostgresDSN(loc) {
		states, err := postgres.Migrate(ctx, loc, command)
		if err != nil {
			return storeError(loc, err)
		}
		for _, s := range states {
			r := migrationRow{Version: s.Version, Name: s.Name, Applied: s.Applied}
			if s.Applied && !s.AppliedAt.IsZero() {
				r.At = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			rows = append(rows, r)
		}
	} else {
		// SQLite migrates when it opens; status reports the version it has.
		st, err := sqlite.Open(ctx, loc)
		if err != nil {
			return storeError(loc, err)
		}
		defer st.Close()
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return storeError(loc, err)
		}
		for n := 1; n <= sqlite.LatestSchemaVersion(); n++ {
			rows = append(rows, migrationRow{Version: int64(n), Applied: n <= v})
		}
	}
	if c.output == "json" {
		c.printJSON(rows)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s\n", describeStore(loc))
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED\tAT")
	for _, r := range rows {
		applied := "no"
		if r.Applied {
			applied = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Version, r.Name, applied, r.At)
	}
	return tw.Flush()
}
