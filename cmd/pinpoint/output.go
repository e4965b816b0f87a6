package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// printError explains a failed command on stderr: problems from the server
// with their code and request id, unreachable servers with a hint.
func (c *cli) printError(err error) {
	var apiErr *admin.APIError
	var netErr *net.OpError
	switch {
	case errors.As(err, &apiErr):
		fmt.Fprintf(c.stderr, "error: %s\n", apiErr.Error())
		if apiErr.Status == http.StatusUnauthorized {
			c.printTokenHint()
		} else if apiErr.Problem.Hint != "" {
			fmt.Fprintf(c.stderr, "hint: %s\n", apiErr.Problem.Hint)
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		fmt.Fprintf(c.stderr, "error: cannot reach the admin API at %s: connection refused\n", c.adminURL)
		fmt.Fprintf(c.stderr, "hint: is 'pinpoint serve' running? This command looked for it at %s; "+
			"pass --admin or set %s if it listens elsewhere.\n", c.adminURL, envAdminURL)
	case errors.As(err, &netErr):
		fmt.Fprintf(c.stderr, "error: cannot reach the admin API at %s: %v\n", c.adminURL, netErr.Err)
		fmt.Fprintf(c.stderr, "hint: check --admin (or %s) and that 'pinpoint serve' is running.\n", envAdminURL)
	default:
		fmt.Fprintf(c.stderr, "error: %v\n", err)
	}
}

func (c *cli) printTokenHint() {
	if c.tokenSource == "" {
		fmt.Fprintf(c.stderr, "hint: no admin token was sent. Pass --token, set %s, or run where %s "+
			"(written by 'pinpoint serve' at first start) exists.\n", envAdminToken, c.tokenFile)
		return
	}
	fmt.Fprintf(c.stderr, "hint: the admin API does not know the token from %s. "+
		"Use the token 'pinpoint serve' printed at first start or the one in its data directory's admin-token file.\n", c.tokenSource)
}

// printJSON writes v as indented JSON on stdout.
func (c *cli) printJSON(v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(c.stderr, "error: encoding JSON: %v\n", err)
		return
	}
	fmt.Fprintf(c.stdout, "%s\n", b)
}

// printJSONLine writes v as one line of JSON (for streams).
func (c *cli) printJSONLine(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: encoding JSON: %v\n", err)
		return
	}
	fmt.Fprintf(c.stdout, "%s\n", b)
}

func (c *cli) formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format(time.RFC3339)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// callOut is a call record in JSON output, the trace inline.
type callOut struct {
	store.Call
	Trace json.RawMessage `json:"trace,omitempty"`
}

func callJSON(call store.Call) callOut {
	out := callOut{Call: call}
	if len(call.Trace) > 0 && json.Valid(call.Trace) {
		out.Trace = call.Trace
	}
	return out
}
