package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
)

// run calls f with an admin client and reports its error the CLI's way.
func (c *cli) run(f func(client *admin.Client) error) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	return c.fail(f(client))
}

// suspendFlags are the flags of the suspend subcommands.
type suspendFlags struct{ reason, category string }

func (f *suspendFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.reason, "reason", "", "why (for operators only; never shown to callers)")
	cmd.Flags().StringVar(&f.category, "category", "administrative",
		"what refused callers are told: "+strings.Join(identity.Categories, ", "))
}

func newTenantsCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tenants",
		Aliases: []string{"tenant"},
		Short:   "List and manage tenants (organizations consumers belong to)",
		Long: `A tenant groups consumers (an organization, a customer). Suspending a tenant
refuses every consumer of it with 403 tenant.suspended; the caller is told the
category (billing, abuse, ...), never your reason.

Tenants declared in the configuration are shown with source "config" and can
only be changed there; tenants created here live in the store.`,
		Example: `  pinpoint tenants
  pinpoint tenants create acme --name "Acme Corp"
  pinpoint tenants suspend acme --category billing --reason "invoice 2026-11 unpaid"
  pinpoint tenants activate acme`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(func(client *admin.Client) error {
				list, err := client.Tenants(cmd.Context())
				if err != nil {
					return err
				}
				if c.output == "json" {
					c.printJSON(map[string]any{"tenants": list})
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSOURCE")
				for _, t := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, dash(t.Name), statusText(t.Status, t.SuspendedCategory), t.Source)
				}
				return tw.Flush()
			})
		},
	}
	var name string
	create := &cobra.Command{
		Use: "create ID [--name NAME]", Short: "Create a tenant",
		Long:    `Create a tenant in the store. Its id is what consumers name in their tenant field.`,
		Example: `  pinpoint tenants create acme --name "Acme Corp"`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				t, err := client.PutTenant(cmd.Context(), admin.TenantInput{ID: args[0], Name: name}, true)
				if err != nil {
					return err
				}
				return c.printRecord(t, "tenant %s created\n", t.ID)
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name")
	show := &cobra.Command{
		Use: "show ID", Short: "Show a tenant",
		Long:    `Print a tenant as JSON: status, suspension reason and category, and whether the configuration or the store owns it.`,
		Example: `  pinpoint tenants show acme`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				t, err := client.Tenant(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return c.printRecord(t, "")
			})
		},
	}
	var sf suspendFlags
	suspend := &cobra.Command{
		Use: "suspend ID --reason TEXT [--category C]", Short: "Suspend a tenant and all its consumers",
		Long:    `Suspend a stored tenant: every consumer of it is refused with 403 tenant.suspended. Callers see only the category; the reason is kept for operators.`,
		Example: `  pinpoint tenants suspend acme --category billing --reason "invoice 2026-11 unpaid"`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				t, err := client.SetTenantStatus(cmd.Context(), args[0], true, admin.StatusInput{Reason: sf.reason, Category: sf.category})
				if err != nil {
					return err
				}
				return c.printRecord(t, "tenant %s suspended (%s)\n", t.ID, t.SuspendedCategory)
			})
		},
	}
	sf.add(suspend)
	activate := &cobra.Command{
		Use: "activate ID", Short: "Lift a tenant's suspension",
		Long:    `Make a suspended tenant active again; its consumers are served at once.`,
		Example: `  pinpoint tenants activate acme`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				t, err := client.SetTenantStatus(cmd.Context(), args[0], false, admin.StatusInput{})
				if err != nil {
					return err
				}
				return c.printRecord(t, "tenant %s is active\n", t.ID)
			})
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a tenant that has no consumers",
		Long:    `Delete a stored tenant. A tenant that still has consumers is refused with 409; move or delete them first.`,
		Example: `  pinpoint tenants delete acme`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				if err := client.DeleteTenant(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "tenant %s deleted\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(listCmd(cmd), create, show, suspend, activate, del)
	return cmd
}

// listCmd is "NOUN list": the same listing as the bare NOUN command, with
// the same flags, for those who type it.
func listCmd(parent *cobra.Command) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "The same listing as '" + parent.Name() + "' alone",
		Long:    parent.Long,
		Example: parent.Example,
		Args:    parent.Args,
		RunE:    parent.RunE,
	}
	list.Flags().AddFlagSet(parent.Flags())
	return list
}

func newConsumersCmd(c *cli) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "consumers",
		Aliases: []string{"consumer"},
		Short:   "List and manage consumers (the clients of your APIs)",
		Long: `A consumer is an application, partner or user that calls your APIs with its
credentials. Its groups (roles) and metadata are what authorize rules and
policies check; suspending it refuses all its requests with 403
consumer.suspended, telling the caller only the category.

Consumers declared in the configuration are shown with source "config" and can
only be changed there; keys can still be issued for them at run time.`,
		Example: `  pinpoint consumers --tenant acme
  pinpoint consumers create orders-app --name "Orders App" --tenant acme --group partners --meta user_id=42
  pinpoint consumers suspend orders-app --category abuse --reason "scraping, ticket 881"
  pinpoint consumers show orders-app`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(func(client *admin.Client) error {
				list, err := client.Consumers(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				if c.output == "json" {
					c.printJSON(map[string]any{"consumers": list})
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tTENANT\tGROUPS\tSTATUS\tSOURCE")
				for _, k := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, dash(k.Name), dash(k.TenantID),
						dash(strings.Join(k.Groups, ",")), statusText(k.Status, k.SuspendedCategory), k.Source)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only consumers of this tenant")

	var in admin.ConsumerInput
	var meta []string
	put := func(create bool) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			in.ID = args[0]
			in.Metadata = map[string]string{}
			for _, kv := range meta {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usagef("--meta %q: want NAME=VALUE", kv)
				}
				in.Metadata[k] = v
			}
			return c.run(func(client *admin.Client) error {
				r, err := client.PutConsumer(cmd.Context(), in, create)
				if err != nil {
					return err
				}
				verb := "updated"
				if create {
					verb = "created"
				}
				return c.printRecord(r, "consumer %s %s\n", r.ID, verb)
			})
		}
	}
	create := &cobra.Command{
		Use: "create ID [flags]", Short: "Create a consumer",
		Long:    `Create a consumer in the store. Issue keys for it with 'pinpoint keys create --consumer ID'.`,
		Example: `  pinpoint consumers create orders-app --name "Orders App" --tenant acme --group partners --meta user_id=42`,
		Args:    usageArgs(cobra.ExactArgs(1)), RunE: put(true),
	}
	update := &cobra.Command{
		Use: "update ID [flags]", Short: "Replace a stored consumer's name, tenant, groups and metadata",
		Long: `Replace a stored consumer's fields with the flags given (fields not given are cleared).
The change applies to the next request.`,
		Example: `  pinpoint consumers update orders-app --name "Orders App" --tenant acme --group partners,beta`,
		Args:    usageArgs(cobra.ExactArgs(1)), RunE: put(false),
	}
	for _, sub := range []*cobra.Command{create, update} {
		sub.Flags().StringVar(&in.Name, "name", "", "display name")
		sub.Flags().StringVar(&in.Tenant, "tenant", "", "tenant id")
		sub.Flags().StringSliceVar(&in.Groups, "group", nil, "group (role); repeat or comma-separate")
		sub.Flags().StringArrayVar(&meta, "meta", nil, "metadata NAME=VALUE; repeat")
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show a consumer",
		Long:    `Print a consumer as JSON: tenant, groups, metadata, status and suspension, and whether the configuration or the store owns it.`,
		Example: `  pinpoint consumers show orders-app`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				r, err := client.Consumer(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return c.printRecord(r, "")
			})
		},
	}
	var sf suspendFlags
	suspend := &cobra.Command{
		Use: "suspend ID --reason TEXT [--category C]", Short: "Suspend a consumer",
		Long:    `Suspend a stored consumer: all its requests are refused with 403 consumer.suspended. Callers see only the category; the reason is kept for operators.`,
		Example: `  pinpoint consumers suspend orders-app --category abuse --reason "scraping, ticket 881"`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				r, err := client.SetConsumerStatus(cmd.Context(), args[0], true, admin.StatusInput{Reason: sf.reason, Category: sf.category})
				if err != nil {
					return err
				}
				return c.printRecord(r, "consumer %s suspended (%s)\n", r.ID, r.SuspendedCategory)
			})
		},
	}
	sf.add(suspend)
	activate := &cobra.Command{
		Use: "activate ID", Short: "Lift a consumer's suspension",
		Long:    `Make a suspended consumer active again.`,
		Example: `  pinpoint consumers activate orders-app`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				r, err := client.SetConsumerStatus(cmd.Context(), args[0], false, admin.StatusInput{})
				if err != nil {
					return err
				}
				return c.printRecord(r, "consumer %s is active\n", r.ID)
			})
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a stored consumer and its keys",
		Long:    `Delete a stored consumer and every key issued to it; requests with those keys get 401 authn.key_unknown from then on.`,
		Example: `  pinpoint consumers delete orders-app`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(func(client *admin.Client) error {
				if err := client.DeleteConsumer(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "consumer %s and its keys deleted\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(listCmd(cmd), create, update, show, suspend, activate, del)
	return cmd
}

// printRecord prints v as JSON with -o json, else the message (or, with
// an empty message, v's fields one per line).
func (c *cli) printRecord(v any, format string, args ...any) error {
	if c.output == "json" || format == "" {
		c.printJSON(v)
		return nil
	}
	fmt.Fprintf(c.stdout, format, args...)
	return nil
}

func statusText(status, category string) string {
	if status == identity.StatusSuspended && category != "" {
		return status + " (" + category + ")"
	}
	return status
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
