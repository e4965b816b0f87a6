package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// newAuditRecorder returns the process's audit recorder over st.
func newAuditRecorder(st store.Store, log *slog.Logger) *audit.Recorder {
	return &audit.Recorder{Store: st, Log: log}
}

func newAuditCmd(c *cli) *cobra.Command {
	var (
		f       admin.AuditFilter
		follow  bool
		asJSON  bool
		objects string
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log: who changed what, and when",
		Long: `Audit prints the gateway's audit log, oldest first: time, action, object,
actor (the admin token's name, the OS user of a file apply, or "system"),
source, the revision in force, and the facts of the change (a revision's
diff summary, a key's old and new prefix, a suspension's reason).

Every revision, admin action, key lifecycle event (created, rotated,
revoked, expired), consumer and tenant status change, rejected apply and
admin token creation is recorded; the log is append-only and never holds a
secret.

Filters combine: --action takes an action (key.revoked) or every action of
a kind (key.*); --object takes KIND:ID (key:pp_live_ab12cd34ef56,
consumer:orders-app, revision:42); --since and --until take an age (15m,
2h, 7d) or an RFC 3339 time. With --follow the command keeps printing new
entries as they are recorded until interrupted (Ctrl-C). With --json (or
-o json) each entry is one JSON object per line.`,
		Example: `  # What happened to keys in the last day
  pinpoint audit --action 'key.*' --since 24h

  # Everything done to one consumer, and everything alice did
  pinpoint audit --object consumer:orders-app
  pinpoint audit --actor alice --limit 200

  # Watch changes as they happen, as JSON
  pinpoint audit --follow --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				c.output = "json"
			}
			f.Object = objects
			if err := checkAuditFilter(&f); err != nil {
				return err
			}
			return c.audit(cmd.Context(), f, follow)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Action, "action", "", "action (key.revoked) or a kind's actions (key.*)")
	fl.StringVar(&objects, "object", "", "object as KIND:ID, e.g. key:pp_live_ab12cd34ef56 or consumer:orders-app")
	fl.StringVar(&f.Kind, "kind", "", "object kind: revision, key, consumer, tenant, admin_token, config, …")
	fl.StringVar(&f.Actor, "actor", "", "who made the change: an admin token's name, or system")
	fl.StringVar(&f.Since, "since", "", "age (15m, 2h, 7d) or RFC 3339 time")
	fl.StringVar(&f.Until, "until", "", "age (15m, 2h, 7d) or RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 50, "how many of the newest matching entries to print (1-10000)")
	fl.BoolVarP(&follow, "follow", "F", false, "keep printing new entries until interrupted")
	fl.BoolVar(&asJSON, "json", false, "one JSON object per line (same as -o json)")
	return cmd
}

// checkAuditFilter validates the flags locally, so that mistakes are usage
// errors, and turns relative times into fixed ones so that --follow keeps
// one window.
func checkAuditFilter(f *admin.AuditFilter) error {
	if f.Limit < 1 || f.Limit > 10000 {
		return usagef("--limit must be between 1 and 10000")
	}
	if base, all := strings.CutSuffix(f.Action, ".*"); strings.Contains(base, "*") || all && base == "" {
		return usagef("--action %q: want an action such as key.revoked, or a kind's actions such as 'key.*'", f.Action)
	}
	if f.Object != "" && !strings.Contains(f.Object, ":") && f.Kind == "" {
		return usagef("--object %q: want KIND:ID, e.g. key:pp_live_ab12cd34ef56 or consumer:orders-app", f.Object)
	}
	now := time.Now()
	for _, p := range []struct {
		flag string
		v    *string
	}{{"--since", &f.Since}, {"--until", &f.Until}} {
		if *p.v == "" {
			continue
		}
		t, err := admin.ParseSince(*p.v, now)
		if err != nil {
			return usagef("%s %q: %v", p.flag, *p.v, err)
		}
		*p.v = t.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

func (c *cli) audit(ctx context.Context, f admin.AuditFilter, follow bool) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	fetch := func(ctx context.Context, after int64, following bool) ([]store.AuditEntry, error) {
		if following {
			f.After, f.Ascending, f.Limit = after, true, followPage
		}
		return client.Audit(ctx, f)
	}
	return tail(ctx, c, fetch, func(e store.AuditEntry) int64 { return e.Seq }, c.printAudit, "no matching audit entries", follow)
}

// auditOut is an audit entry in JSON output, its detail inline.
type auditOut struct {
	store.AuditEntry
	Detail json.RawMessage `json:"detail,omitempty"`
}

// printAudit prints one entry:
//
//	2026-01-02T15:04:05Z key.revoked key:pp_live_ab12cd34ef56 by alice via admin-api rev=3 consumer=orders-app reason="leaked in a log" seq=7 request=01JD...
func (c *cli) printAudit(e store.AuditEntry) {
	if c.output == "json" {
		out := auditOut{AuditEntry: e}
		if json.Valid(e.Detail) {
			out.Detail = e.Detail
		}
		c.printJSONLine(out)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s:%s by %s", c.formatTime(e.Time), e.Action, e.ObjectKind, e.ObjectID, e.Actor)
	if e.Source != "" {
		b.WriteString(" via " + e.Source)
	}
	if e.Revision != 0 {
		b.WriteString(" rev=" + strconv.FormatInt(e.Revision, 10))
	}
	for _, kv := range detailFields(e.Detail) {
		b.WriteString(" " + kv)
	}
	fmt.Fprintf(&b, " seq=%d", e.Seq)
	if e.RequestID != "" {
		b.WriteString(" request=" + e.RequestID)
	}
	fmt.Fprintln(c.stdout, b.String())
}

// detailFields renders a detail object as key=value pairs in key order:
// strings quoted when they hold spaces or quotes, everything else as
// compact JSON. A detail that is not an object is one detail=… pair.
func detailFields(detail json.RawMessage) []string {
	if len(detail) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(detail, &m); err != nil {
		return []string{"detail=" + compactJSON(detail)}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			if s == "" || strings.ContainsAny(s, " \t\n\"=") {
				s = strconv.Quote(s)
			}
			out = append(out, k+"="+s)
			continue
		}
		out = append(out, k+"="+compactJSON(v))
	}
	return out
}

func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return strconv.Quote(string(raw))
	}
	return b.String()
}
