package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
)

func newExplainCmd(c *cli) *cobra.Command {
	var (
		asJSON        bool
		decisionToken string
		keyFile       string
	)
	cmd := &cobra.Command{
		Use:   "explain REQUEST-ID | --token DECISION-TOKEN [--key-file FILE | --store STORE]",
		Short: "Explain why a request was refused: stage, rule, caller, revision and the fix",
		Long: `Explain prints why the gateway answered a request the way it did, from the call
log: the request as the gateway saw it (secrets redacted), every stage in order
with its outcome, the deciding rule or policy, the credential (its prefix id),
consumer and tenant, the configuration revision in force, the upstream's answer,
the report_only rules that would have refused it, and a fix written for the
operator. REQUEST-ID is the X-Request-Id a client received (also in the
request_id member of every refusal, and in 'pinpoint logs').

With --token instead of a REQUEST-ID, explain decodes the decision_token of a
refusal offline, without the call log: for refusals a third party reports. Keys
come from --key-file, else $PINPOINT_TOKEN_KEYS, else the local store (--store),
else the admin API (see docs/decision-tokens.md). With a REQUEST-ID, --token is the
admin token, as for every other command.

--json (or -o json) prints the Explanation as JSON (docs/explain.md describes
its fields; they are stable).`,
		Example: `  # Why was this request refused?
  pinpoint explain 0197a0f2-5c3e-7b9a-8d41-6f0e2a1c9b77

  # The same for tools
  pinpoint explain 0197a0f2-5c3e-7b9a-8d41-6f0e2a1c9b77 --json | jq .fix

  # Decode the decision_token a partner sent with their bug report
  pinpoint explain --token AUx2… --key-file /etc/pinpoint/token-keys`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON = asJSON || c.output == "json"
			tokenGiven := cmd.Flags().Changed("token")
			if len(args) == 1 {
				if keyFile != "" || c.tokenStore != "" {
					return usagef("--key-file and --store decode a decision token: use them with --token and without a REQUEST-ID")
				}
				if tokenGiven {
					// With a request id, --token is the admin token.
					c.token, c.tokenSource = decisionToken, "--token"
				}
				return c.explain(cmd.Context(), args[0], asJSON)
			}
			if !tokenGiven || decisionToken == "" {
				return usagef("give a REQUEST-ID, or --token DECISION-TOKEN to decode a refusal's decision token")
			}
			// --token is the decision token here; an admin token for the
			// admin API fallback comes from the environment or the token file.
			c.token, c.tokenSource = "", ""
			if v, ok := c.lookupEnv(envAdminToken); ok && v != "" {
				c.token, c.tokenSource = v, envAdminToken
			}
			return c.explainToken(cmd.Context(), decisionToken, keyFile, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the explanation as JSON (same as -o json)")
	fl.StringVar(&decisionToken, "token", "", "a refusal's decision_token to decode (with a REQUEST-ID: the admin token)")
	fl.StringVar(&keyFile, "key-file", "", "file of decision-token keys, one id=base64 per line (with --token)")
	fl.StringVar(&c.tokenStore, "store", "", "with --token: postgres:// URL or SQLite file holding the decision-token keys (env "+envStore+"; default pinpoint-data/pinpoint.db)")
	return cmd
}

// explain prints the explanation of one request.
func (c *cli) explain(ctx context.Context, requestID string, asJSON bool) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	x, err := client.Explain(ctx, requestID)
	if err != nil {
		var apiErr *admin.APIError
		isProblem := errors.As(err, &apiErr)
		if isProblem && asJSON {
			c.printJSON(apiErr.Problem)
		}
		if isProblem && apiErr.Problem.Code == "admin.not_found" {
			fmt.Fprintf(c.stderr, "error: the call log has no request %q\n", requestID)
			fmt.Fprintln(c.stderr, "hint: request ids come from the X-Request-Id header or the request_id member of a refusal, and from "+
				"'pinpoint logs'; records older than gateway.call_log.retention are pruned. For a refusal reported by a third party, "+
				"decode its decision_token: pinpoint explain --token TOKEN")
			return errReported
		}
		return err
	}
	if asJSON {
		c.printJSON(x)
		return nil
	}
	return x.WriteText(c.stdout, c.loc)
}
