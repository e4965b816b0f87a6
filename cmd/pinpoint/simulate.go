package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
)

func newSimulateCmd(c *cli) *cobra.Command {
	var (
		method, body, clientIP, peer   string
		asCredential, asConsumer, file string
		headers, scopes                []string
		asJSON                         bool
	)
	cmd := &cobra.Command{
		Use:   "simulate [-X METHOD] URL [-H 'K: V']... [-d BODY] [--client-ip IP] [--as-credential ID | --as-consumer ID] [-f proposed.yaml]",
		Short: "Run a described request through the gateway without sending it",
		Long: `Simulate runs a request you describe through the running gateway's pipeline,
exactly as a real request would go, and prints every stage's decision and the
answer the client would get. Nothing is sent upstream and nothing is counted:
rate limits and quotas are checked against the current counts without being
charged, an idempotency key is reported but not taken, an API key's last-used
time is not updated, and the request is not written to the call log.

The caller is either the credential in the headers (-H 'X-Api-Key: pp_live_…'),
or an identity assumed without its secret: --as-credential takes an API key's
prefix id (or a basic user name or HMAC key id), --as-consumer a consumer
(with --scope for the scopes to grant). Revocation, expiry and suspension are
still checked.

With -f the request runs through a proposed configuration file instead of the
live revision; the file is compiled aside and never applied or stored.`,
		Example: `  # Would bob's key be allowed to create an order?
  pinpoint simulate -X POST https://api.example.com/orders --as-credential pp_live_k7f3a9c2d1e0

  # The same request with the key itself, from a given address
  pinpoint simulate -X POST https://api.example.com/orders -H "X-Api-Key: $KEY" --client-ip 203.0.113.9

  # What would the proposed configuration answer?
  pinpoint simulate https://api.example.com/orders --as-consumer acme-app --scope orders:read -f new.yaml`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				c.output = "json"
			}
			req := admin.SimulateRequest{Method: method, URL: args[0], ClientIP: clientIP, Peer: peer,
				AsCredential: asCredential, AsConsumer: asConsumer, Scopes: scopes}
			if asCredential != "" && asConsumer != "" {
				return usagef("give --as-credential or --as-consumer, not both")
			}
			if len(scopes) > 0 && asConsumer == "" {
				return usagef("--scope is granted with --as-consumer only")
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("-H %q: want 'Name: value'", h)
				}
				if req.Headers == nil {
					req.Headers = map[string][]string{}
				}
				k = strings.TrimSpace(k)
				req.Headers[k] = append(req.Headers[k], strings.TrimSpace(v))
			}
			if strings.HasPrefix(body, "@") {
				b, err := c.readBody(body[1:])
				if err != nil {
					return err
				}
				body = string(b)
			}
			req.Body = body
			if req.Method == "" && body != "" {
				req.Method = "POST"
			}
			if file != "" {
				name, doc, err := c.readDocument(file)
				if err != nil {
					return err
				}
				req.Config, req.Filename = string(doc), name
			}
			return c.simulate(cmd, req)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&method, "request", "X", "", "HTTP method (default GET, or POST with -d)")
	fl.StringArrayVarP(&headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fl.StringVarP(&body, "data", "d", "", "request body (@FILE reads it from a file, @- from standard input)")
	fl.StringVar(&clientIP, "client-ip", "", "the client's address (default 127.0.0.1)")
	fl.StringVar(&peer, "peer", "", "the direct TCP peer, e.g. a trusted proxy's address (default: --client-ip)")
	fl.StringVar(&asCredential, "as-credential", "", "assume this credential without its secret: an API key prefix id, basic user or HMAC key id")
	fl.StringVar(&asConsumer, "as-consumer", "", "assume a caller of this consumer without a credential")
	fl.StringArrayVar(&scopes, "scope", nil, "scope granted with --as-consumer (repeatable)")
	fl.StringVarP(&file, "file", "f", "", "run through this proposed configuration file instead of the live revision (- for standard input)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON (same as -o json)")
	return cmd
}

// readBody reads a request body from a file, or standard input for "-".
func (c *cli) readBody(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(c.stdin, admin.MaxDocumentBytes+1))
	}
	return os.ReadFile(name)
}

func (c *cli) simulate(cmd *cobra.Command, req admin.SimulateRequest) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	res, err := client.Simulate(cmd.Context(), req)
	if err != nil {
		if req.Config != "" {
			return c.documentFailure(req.Filename, err, "nothing was simulated")
		}
		return c.fail(err)
	}
	if c.output == "json" {
		c.printJSON(res)
		return nil
	}
	writeSimulation(c.stdout, res)
	return nil
}

// writeSimulation prints a simulation for people: what happened, who the
// caller was, every stage, and the answer.
func writeSimulation(w io.Writer, res admin.SimulateResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rev := fmt.Sprintf("revision %d (live)", res.Revision)
	if res.Proposed {
		rev = "the proposed configuration (not applied)"
	}
	fmt.Fprintf(tw, "simulated on\t%s\n", rev)
	fmt.Fprintf(tw, "request id\t%s\n", res.RequestID)
	if res.Route != "" {
		fmt.Fprintf(tw, "route\t%s\n", res.Route)
	}
	if id := res.Identity; id != nil {
		who := []string{}
		if id.Consumer != "" {
			who = append(who, "consumer "+id.Consumer)
		}
		if id.Tenant != "" {
			who = append(who, "tenant "+id.Tenant)
		}
		if id.Credential != "" {
			who = append(who, "credential "+id.Credential)
		}
		s := strings.Join(who, ", ")
		if id.Method != "" {
			s += " (" + id.Method + " via " + id.Authenticator + ")"
		}
		if id.Assumed {
			s += ", assumed"
		}
		fmt.Fprintf(tw, "caller\t%s\n", s)
		if len(id.Scopes) > 0 {
			fmt.Fprintf(tw, "scopes\t%s\n", strings.Join(id.Scopes, " "))
		}
	} else {
		fmt.Fprintf(tw, "caller\tanonymous\n")
	}
	fmt.Fprintf(tw, "outcome\t%s\n", res.Summary)
	_ = tw.Flush()

	fmt.Fprintln(w, "\ntrace:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range res.Trace {
		what := s.Code
		if s.Rule != "" {
			what = strings.TrimSpace(what + " " + s.Rule)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Stage, s.Outcome, what, s.Note)
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nanswer:")
	switch {
	case res.Forward != nil:
		f := res.Forward
		fmt.Fprintf(w, "  forwarded to upstream %s, target %s (%s", f.Upstream, f.Target, f.Balance)
		if len(f.Candidates) > 1 {
			fmt.Fprintf(w, " among %s", strings.Join(f.Candidates, ", "))
		}
		fmt.Fprintf(w, "; circuit %s)\n  %s\n", f.Circuit, f.URL)
	default:
		fmt.Fprintf(w, "  HTTP %d\n", res.Status)
	}
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range res.Header[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
	switch {
	case len(res.Problem) > 0:
		var out bytes.Buffer
		if json.Indent(&out, res.Problem, "  ", "  ") == nil {
			fmt.Fprintf(w, "\n  %s\n", out.String())
		} else {
			fmt.Fprintf(w, "\n  %s\n", res.Problem)
		}
	case res.Body != "":
		fmt.Fprintf(w, "\n  %s\n", res.Body)
	}
	if len(res.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range res.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

// printImpact prints a dry run's change impact.
func (c *cli) printImpact(imp *admin.Impact) {
	if imp == nil {
		return
	}
	w := c.stdout
	fmt.Fprintf(w, "\nimpact on recent traffic: replayed %s from %s to %s (at most %d records)",
		plural(imp.Replayed, "request"), imp.Since.Local().Format(time.TimeOnly), imp.Until.Local().Format(time.TimeOnly), imp.Limit)
	if imp.WithoutInputs > 0 {
		fmt.Fprintf(w, "; %d without decision inputs not replayed", imp.WithoutInputs)
	}
	if imp.WithoutBody > 0 {
		fmt.Fprintf(w, "; %d replayed without their body", imp.WithoutBody)
	}
	fmt.Fprintln(w)
	if imp.Changed == 0 {
		fmt.Fprintln(w, "  no request would change outcome")
		return
	}
	fmt.Fprintf(w, "  %s would change outcome:\n", plural(imp.Changed, "request"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  COUNT\tCHANGE\tROUTE\tCONSUMER\tFROM\tTO\tEXAMPLES")
	for _, g := range imp.Groups {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Count, strings.ReplaceAll(g.Change, "_", " "), orDash(g.Route), orDash(g.Consumer),
			orAllowed(g.From), orAllowed(g.To), strings.Join(g.Examples, " "))
	}
	_ = tw.Flush()
}

func orAllowed(code string) string {
	if code == "" {
		return "allowed"
	}
	return code
}
