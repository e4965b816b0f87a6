package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
)

// Defaults of the persistent flags.
const (
	defaultAdminURL  = "http://127.0.0.1:9901"
	defaultTokenFile = "pinpoint-data/admin-token"
	envAdminURL      = "PINPOINT_ADMIN"
	envAdminToken    = "PINPOINT_ADMIN_TOKEN"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli is one invocation's environment and persistent flags. Tests build
// their own with buffers, a fixed time zone and a fast poll interval.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	httpClient     *http.Client
	// loc is the time zone times are printed in.
	loc *time.Location
	// pollInterval is how often `logs --follow` asks for new records.
	pollInterval time.Duration

	adminURL  string
	token     string
	tokenFile string
	output    string

	// tokenSource says where the token came from, for the 401 hint.
	tokenSource string

	// tokenStore is `explain --store`: the store whose keys open decision
	// tokens offline ("": $PINPOINT_STORE, else pinpoint-data/pinpoint.db).
	tokenStore string
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errReported is a failure whose explanation was already printed: exit 1.
var errReported = errors.New("failure already reported")

// usageArgs makes an argument validator's error a usage error.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// run executes the command line and returns the process exit status.
func run(ctx context.Context, args []string, c *cli) int {
	root := newRootCmd(c)
	if args == nil {
		// cobra reads os.Args when given nil.
		args = []string{}
	}
	root.SetArgs(args)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(c.stderr, "error: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	}
	if !errors.Is(err, errReported) {
		c.printError(err)
	}
	return exitFailure
}

func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "pinpoint",
		Short: "Pinpoint, the API gateway that explains every refusal",
		Long: `Pinpoint is an API gateway in one binary. Every request it refuses is answered
with an RFC 9457 problem+json body carrying a stable reason code, and the call
log tells the operator which rule caused it.

Run the gateway with 'pinpoint serve'. The other commands talk to its admin API
(by default http://127.0.0.1:9901) with the admin token that 'pinpoint serve'
wrote to pinpoint-data/admin-token at first start; run them from the directory
that holds pinpoint-data, or pass --token / set PINPOINT_ADMIN_TOKEN.`,
		Example: `  # Start the gateway with a configuration file
  pinpoint serve --config gateway.yaml

  # Check a configuration file without a running gateway
  pinpoint validate -f gateway.yaml

  # Apply it to a running gateway and see the last refusals
  pinpoint apply -f gateway.yaml
  pinpoint logs --status 4xx --since 15m`,
		Args:          usageArgs(cobra.NoArgs),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return c.resolveFlags(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.adminURL, "admin", defaultAdminURL, "admin API URL (env "+envAdminURL+")")
	pf.StringVar(&c.token, "token", "", "admin API token (env "+envAdminToken+"; default: read from --token-file)")
	pf.StringVar(&c.tokenFile, "token-file", defaultTokenFile, "file holding the admin token, written by 'pinpoint serve' at first start")
	pf.StringVarP(&c.output, "output", "o", "text", "output format: text or json")

	root.AddCommand(
		newServeCmd(),
		newValidateCmd(c),
		newApplyCmd(c),
		newRevisionsCmd(c),
		newLogsCmd(c),
		newExplainCmd(c),
		newSimulateCmd(c),
		newAuditCmd(c),
		newTenantsCmd(c),
		newConsumersCmd(c),
		newKeysCmd(c),
		newQuotasCmd(c),
		newStatsCmd(c),
		newUsageCmd(c),
		newMigrateCmd(c),
		newVersionCmd(c),
	)
	return root
}

// resolveFlags applies environment defaults and checks the persistent flags.
func (c *cli) resolveFlags(cmd *cobra.Command) error {
	flags := cmd.Flags()
	if !flags.Changed("admin") {
		if v, ok := c.lookupEnv(envAdminURL); ok && v != "" {
			c.adminURL = v
		}
	}
	u := c.adminURL
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return usagef("--admin %q: want a URL such as %s", c.adminURL, defaultAdminURL)
	}
	c.adminURL = strings.TrimRight(u, "/")
	switch {
	case flags.Changed("token"):
		c.tokenSource = "--token"
	default:
		if v, ok := c.lookupEnv(envAdminToken); ok && v != "" {
			c.token, c.tokenSource = v, envAdminToken
		}
	}
	if c.output != "text" && c.output != "json" {
		return usagef("--output %q: want text or json", c.output)
	}
	return nil
}

// client returns an admin API client, reading the token file when no token
// was given. A missing token file is not an error here: the server's 401
// explains what is needed.
func (c *cli) client() (*admin.Client, error) {
	if c.token == "" && c.tokenFile != "" {
		t, err := admin.ReadTokenFile(c.tokenFile)
		switch {
		case err == nil:
			c.token, c.tokenSource = t, "token file "+c.tokenFile
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("reading the admin token: %w", err)
		}
	}
	return &admin.Client{BaseURL: c.adminURL, Token: c.token, HTTP: c.httpClient}, nil
}

// fail returns err for run to print; with --output json it first prints an
// API problem as JSON on stdout, so scripts get the machine-readable form.
func (c *cli) fail(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *admin.APIError
	if c.output == "json" && errors.As(err, &apiErr) {
		c.printJSON(apiErr.Problem)
	}
	return err
}
