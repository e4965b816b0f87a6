package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
)

func newKeysCmd(c *cli) *cobra.Command {
	var consumer, after string
	var limit int
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key"},
		Short:   "Issue, list, revoke and rotate API keys",
		Long: `API keys look like pp_<environment>_<id>_<secret>. The gateway stores only their
SHA-256; the whole key is printed once, when it is created or rotated, and can
never be shown again. The prefix pp_<environment>_<id> is not secret: it is
what refusals, logs and this command show.

Revoking is immediate and final (401 authn.key_revoked). Rotating issues a
replacement with the same consumer and scopes; the old key keeps working for
the grace period, then answers 401 authn.key_rotated.`,
		Example: `  pinpoint keys create --consumer orders-app --scope orders:read --scope orders:write --expires-in 2160h
  pinpoint keys --consumer orders-app
  pinpoint keys rotate k7f3a9c2d1e0 --grace 48h
  pinpoint keys revoke k7f3a9c2d1e0 --reason "leaked in CI logs"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(func(client *admin.Client) error {
				list, err := client.Keys(cmd.Context(), consumer, after, limit)
				if err != nil {
					return err
				}
				if c.output == "json" {
					c.printJSON(map[string]any{"keys": list})
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PREFIX\tCONSUMER\tSCOPES\tSTATE\tEXPIRES\tLAST USED\tSOURCE")
				for _, k := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", identity.Prefix(k.Env, k.ID), k.ConsumerID,
						dash(strings.Join(k.Scopes, ",")), keyState(k, time.Now()), c.formatTime(k.ExpiresAt),
						c.formatTime(k.LastUsedAt), k.Source)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "only keys of this consumer")
	cmd.Flags().StringVar(&after, "after", "", "page on: stored keys with ids after this one")
	cmd.Flags().IntVar(&limit, "limit", 100, "how many stored keys to list (1-10000)")

	var in admin.KeyInput
	var expiresAt string
	create := &cobra.Command{
		Use:   "create --consumer ID [--scope S]... [--expires-in D | --expires-at T]",
		Short: "Issue a key (printed once)",
		Long: `Issue an API key for a consumer (declared in the configuration or stored).
The whole key is printed once; the gateway keeps only its SHA-256.`,
		Example: `  pinpoint keys create --consumer orders-app --scope orders:read --expires-in 2160h
  pinpoint keys create --consumer ci --name deploy --scope deploy:write --expires-at 2027-01-31T00:00:00Z`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Consumer == "" {
				return usagef("--consumer is required")
			}
			if expiresAt != "" {
				t, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return usagef("--expires-at %q: want RFC 3339, e.g. 2027-01-31T00:00:00Z", expiresAt)
				}
				in.ExpiresAt = t
			}
			return c.run(func(client *admin.Client) error {
				out, err := client.CreateKey(cmd.Context(), in)
				if err != nil {
					return err
				}
				c.printIssued(out)
				return nil
			})
		},
	}
	create.Flags().StringVar(&in.Consumer, "consumer", "", "consumer the key belongs to (required)")
	create.Flags().StringVar(&in.Name, "name", "", "a label for the key (\"ci\", \"laptop\")")
	create.Flags().StringSliceVar(&in.Scopes, "scope", nil, "scope to grant; repeat or comma-separate")
	create.Flags().StringVar(&in.ExpiresIn, "expires-in", "", "lifetime, e.g. 720h")
	create.Flags().StringVar(&expiresAt, "expires-at", "", "expiry time (RFC 3339)")

	show := &cobra.Command{
		Use: "show ID", Short: "Show a key's record (never the key)",
		Long: `Print a key's record as JSON: consumer, scopes, validity, revocation, rotation and last use. The key itself is never stored, so it cannot be shown. ID is the prefix id or the whole prefix pp_<env>_<id>.`,
		Example: `  pinpoint keys show k7f3a9c2d1e0
  pinpoint keys show pp_live_k7f3a9c2d1e0`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				k, err := client.Key(cmd.Context(), keyID(args[0]))
				if err != nil {
					return err
				}
				c.printJSON(k)
				return nil
			})
		},
	}
	var reason string
	revoke := &cobra.Command{
		Use: "revoke ID --reason TEXT", Short: "Revoke a key now",
		Long:    `Revoke a stored key. It is refused with 401 authn.key_revoked from the next request on; revocation cannot be undone. The reason is kept for operators.`,
		Example: `  pinpoint keys revoke k7f3a9c2d1e0 --reason "leaked in CI logs"`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usagef("--reason is required (it is kept for operators and shown by pinpoint explain)")
			}
			return c.run(func(client *admin.Client) error {
				k, err := client.RevokeKey(cmd.Context(), keyID(args[0]), reason)
				if err != nil {
					return err
				}
				return c.printRecord(k, "key %s revoked\n", identity.Prefix(k.Env, k.ID))
			})
		},
	}
	revoke.Flags().StringVar(&reason, "reason", "", "why (for operators)")
	var grace string
	rotate := &cobra.Command{
		Use: "rotate ID [--grace 24h]", Short: "Issue a replacement; the old key works during the grace period",
		Long: `Issue a replacement key with the same consumer, name and scopes. The old key keeps
working until the grace period ends, then answers 401 authn.key_rotated, whose
hint tells the caller to use the replacement. --grace 0s ends the old key now.`,
		Example: `  pinpoint keys rotate k7f3a9c2d1e0 --grace 48h`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				out, err := client.RotateKey(cmd.Context(), keyID(args[0]), grace)
				if err != nil {
					return err
				}
				c.printIssued(out)
				return nil
			})
		},
	}
	rotate.Flags().StringVar(&grace, "grace", "24h", "how long the old key keeps working")
	cmd.AddCommand(listCmd(cmd), create, show, revoke, rotate)
	return cmd
}

// keyID accepts a key id or its prefix pp_<env>_<id>.
func keyID(s string) string {
	if strings.HasPrefix(s, "pp_") {
		parts := strings.Split(s, "_")
		if len(parts) >= 3 {
			return parts[2]
		}
	}
	return s
}

func (c *cli) printIssued(out admin.IssuedKey) {
	if c.output == "json" {
		c.printJSON(out)
		return
	}
	k := out.APIKey
	fmt.Fprintf(c.stdout, "key %s for consumer %s\n", identity.Prefix(k.Env, k.ID), k.ConsumerID)
	if len(k.Scopes) > 0 {
		fmt.Fprintf(c.stdout, "  scopes   %s\n", strings.Join(k.Scopes, " "))
	}
	if !k.ExpiresAt.IsZero() {
		fmt.Fprintf(c.stdout, "  expires  %s\n", c.formatTime(k.ExpiresAt))
	}
	if r := out.Replaced; r != nil {
		fmt.Fprintf(c.stdout, "  replaces %s, which keeps working until %s\n", identity.Prefix(r.Env, r.ID), c.formatTime(r.ExpiresAt))
	}
	fmt.Fprintf(c.stdout, "\n%s\n\nThis is the only time the key is shown; the gateway keeps only its SHA-256.\n", out.Key)
}

func keyState(k identity.KeyRecord, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) && k.ReplacedBy != "":
		return "rotated"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return "expired"
	case k.ReplacedBy != "":
		return "grace"
	case !k.NotBefore.IsZero() && now.Before(k.NotBefore):
		return "not yet valid"
	}
	return "active"
}
