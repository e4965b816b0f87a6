package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
)

func newValidateCmd(c *cli) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a configuration file without applying it",
		Long: `Validate decodes and checks a configuration file exactly as the gateway would,
locally, without a running gateway. It reports every error at once, each with
file, line, column and field path, and exits with status 1 if there is any.

${NAME} references are resolved from this shell's environment, so run it with
the same variables the gateway will have. Use -f - to read standard input.`,
		Example: `  pinpoint validate -f gateway.yaml
  # gateway.yaml: valid (3 routes, 2 upstreams)

  # In CI, before deploying
  pinpoint validate -f deploy/gateway.yaml || exit 1`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-f FILE is required")
			}
			return c.validate(file)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file to check (- for standard input)")
	return cmd
}

// validateOut is the JSON output of validate.
type validateOut struct {
	File      string              `json:"file"`
	Valid     bool                `json:"valid"`
	Routes    int                 `json:"routes"`
	Upstreams int                 `json:"upstreams"`
	Errors    []admin.ConfigError `json:"errors,omitempty"`
}

func (c *cli) validate(file string) error {
	name, doc, err := c.readDocument(file)
	if err != nil {
		return err
	}
	cfg, err := config.Load(name, doc, c.lookupEnv)
	if err != nil {
		var list config.Errors
		if !errors.As(err, &list) {
			return err
		}
		if c.output == "json" {
			out := validateOut{File: name}
			for _, e := range list {
				out.Errors = append(out.Errors, admin.ConfigError{File: e.File, Line: e.Line, Column: e.Column, Path: e.Path, Message: e.Message})
			}
			c.printJSON(out)
			return errReported
		}
		for _, e := range list {
			fmt.Fprintln(c.stderr, e.Error())
		}
		fmt.Fprintf(c.stderr, "%s: invalid (%s)\n", name, plural(len(list), "error"))
		return errReported
	}
	if c.output == "json" {
		c.printJSON(validateOut{File: name, Valid: true, Routes: len(cfg.Routes), Upstreams: len(cfg.Upstreams)})
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: valid (%s, %s)\n", name, plural(len(cfg.Routes), "route"), plural(len(cfg.Upstreams), "upstream"))
	return nil
}

// readDocument reads a configuration file, or standard input for "-".
func (c *cli) readDocument(file string) (name string, doc []byte, err error) {
	if file == "-" {
		doc, err = io.ReadAll(io.LimitReader(c.stdin, admin.MaxDocumentBytes+1))
		name = "stdin"
	} else {
		doc, err = os.ReadFile(file)
		name = file
	}
	if err != nil {
		return "", nil, err
	}
	if len(doc) > admin.MaxDocumentBytes {
		return "", nil, fmt.Errorf("%s: the document exceeds %d bytes", name, admin.MaxDocumentBytes)
	}
	return name, doc, nil
}
