package explain

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// WriteText writes the explanation for people: a header block of aligned
// "name: value" lines, the stages, the would-deny steps, the upstream's
// answer and the fix. Times are shown in loc (nil: UTC).
func (x *Explanation) WriteText(w io.Writer, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	p := &printer{w: w, loc: loc}
	p.header(x)
	p.steps("stages:", x.Steps)
	if len(x.WouldDeny) > 0 {
		p.line("")
		p.steps("would have refused (report_only rules; the request went on):", x.WouldDeny)
	}
	if f := x.Fix; f != nil {
		p.line("")
		p.line("fix:")
		p.wrapped("  ", f.Cause)
		for _, a := range f.Actions {
			p.wrapped("  - ", a)
		}
	}
	if len(x.Request.Headers) > 0 {
		p.line("")
		p.line("headers:")
		names := make([]string, 0, len(x.Request.Headers))
		for k := range x.Request.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range x.Request.Headers[k] {
				p.line("  " + k + ": " + v)
			}
		}
	}
	for _, n := range x.Notes {
		p.line("note: " + n)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	loc *time.Location
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s+"\n")
	}
}

// wrapped writes s after prefix, wrapping at 100 columns with the
// continuation indented under the text.
func (p *printer) wrapped(prefix, s string) {
	const width = 100
	indent := strings.Repeat(" ", len(prefix))
	var b strings.Builder
	b.WriteString(prefix)
	n, fresh := len(prefix), true
	for _, word := range words(s) {
		if !fresh && n+1+len(word) > width {
			p.line(b.String())
			b.Reset()
			b.WriteString(indent)
			n, fresh = len(indent), true
		}
		if !fresh {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
		fresh = false
	}
	p.line(b.String())
}

// words splits s at spaces, keeping each `command` span whole so that a
// command is never broken across lines.
func words(s string) []string {
	var out []string
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		end := strings.IndexByte(s, ' ')
		if i := strings.IndexByte(s, '`'); i >= 0 && (end < 0 || i < end) {
			if j := strings.IndexByte(s[i+1:], '`'); j >= 0 {
				// The word runs to the first space after the closing backtick.
				close := i + 1 + j + 1
				if k := strings.IndexByte(s[close:], ' '); k >= 0 {
					end = close + k
				} else {
					end = -1
				}
			}
		}
		if end < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

func (p *printer) time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(p.loc).Format(time.RFC3339)
}

// header prints the aligned summary block.
func (p *printer) header(x *Explanation) {
	type kv struct{ k, v string }
	answer := strconv.Itoa(x.Status)
	if x.Code != "" {
		answer += " " + x.Code
	}
	if x.Title != "" {
		answer += " (" + x.Title + ")"
	}
	rows := []kv{
		{"request", x.RequestID},
		{"time", p.time(x.Time)},
		{"outcome", x.Outcome},
		{"answer", answer},
	}
	if d := x.Decision; d != nil {
		by := d.Stage
		if d.Rule != "" {
			by += ", rule " + d.Rule
		}
		rows = append(rows, kv{"decided by", by})
		if d.Reason != "" {
			rows = append(rows, kv{"reason", d.Reason})
		}
	}
	r := x.Request
	target := r.Method + " "
	if r.Scheme != "" {
		target += r.Scheme + "://"
	}
	target += r.Host + r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	rows = append(rows, kv{"seen", target})
	if r.RawPath != "" {
		rows = append(rows, kv{"sent path", r.RawPath})
	}
	switch {
	case len(r.Body) > 0:
		rows = append(rows, kv{"body", string(r.Body)})
	case r.BodyOmitted:
		rows = append(rows, kv{"body", plural(int(r.BodyBytes), "byte") + ", not kept"})
	}
	client := orSomething(r.ClientIP, "-")
	if r.Peer != "" && r.Peer != r.ClientIP {
		client += " via " + r.Peer
		if r.PeerTrusted {
			client += " (trusted proxy)"
		}
	}
	rows = append(rows, kv{"client", client}, kv{"route", orSomething(x.Route, "(none)")})
	c := x.Caller
	cred := orSomething(c.Credential, "(anonymous)")
	if c.Credential == "" && c.Presented != "" {
		cred = c.Presented + " (presented, not verified)"
	}
	switch {
	case c.Method != "" && c.Authenticator != "":
		cred += " (" + c.Method + " via " + c.Authenticator + ")"
	case c.Authenticator != "":
		cred += " (via " + c.Authenticator + ")"
	}
	if k := c.Key; k != nil {
		cred += "; key scopes " + list(k.Scopes) + ", from " + k.Source
		if !k.RevokedAt.IsZero() {
			cred += ", revoked " + p.time(k.RevokedAt)
		} else if !k.ExpiresAt.IsZero() {
			cred += ", expires " + p.time(k.ExpiresAt)
		}
	}
	rows = append(rows, kv{"credential", cred})
	consumer := orSomething(c.Consumer, "-")
	if c.ConsumerName != "" && c.ConsumerName != c.Consumer {
		consumer += " (" + c.ConsumerName + ")"
	}
	rows = append(rows, kv{"consumer", consumer}, kv{"tenant", orSomething(c.Tenant, "-")})
	rev := x.Revision
	revision := "-"
	switch {
	case rev.Number == 0:
	case rev.Missing:
		revision = strconv.FormatInt(rev.Number, 10) + " (no longer in the store)"
	default:
		revision = strconv.FormatInt(rev.Number, 10) + " by " + orSomething(rev.Author, "unknown") + " at " + p.time(rev.CreatedAt)
		if rev.Source != "" {
			revision += " from " + rev.Source
		}
	}
	rows = append(rows, kv{"revision", revision})
	if rev.Summary != "" && !rev.Missing {
		rows = append(rows, kv{"changes", summary(rev.Summary)})
	}
	upstream := "not called"
	if u := x.Upstream; u != nil {
		var parts []string
		if u.Status != 0 {
			parts = append(parts, "answered "+strconv.Itoa(u.Status))
		} else {
			parts = append(parts, "no answer")
		}
		if u.Target != "" {
			parts = append(parts, "target "+u.Target)
		}
		if u.Attempts > 0 {
			parts = append(parts, plural(u.Attempts, "attempt"))
		}
		parts = append(parts, "waited "+duration(u.Latency))
		upstream = strings.Join(parts, ", ")
	}
	rows = append(rows, kv{"upstream", upstream}, kv{"latency", duration(x.Latency)})
	width := 0
	for _, r := range rows {
		width = max(width, len(r.k))
	}
	for _, r := range rows {
		p.line(fmt.Sprintf("%-*s  %s", width+1, r.k+":", r.v))
	}
	p.line("")
}

// steps prints a trace as an aligned table.
func (p *printer) steps(title string, steps []Step) {
	p.line(title)
	if len(steps) == 0 {
		p.line("  (no trace recorded)")
		return
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for i, s := range steps {
		detail := s.Code
		if s.Rule != "" {
			detail = strings.TrimSpace(detail + " " + s.Rule)
		}
		note := s.Note
		if len(note) > 160 {
			cut := 157
			for cut > 0 && !utf8.RuneStart(note[cut]) {
				cut--
			}
			note = note[:cut] + "..."
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", i+1, s.Stage, s.Outcome, orSomething(detail, "-"), note)
	}
	_ = tw.Flush() // writes to memory
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		p.line(strings.TrimRight(l, " "))
	}
}

// summary shortens a revision's change summary to one line.
func summary(s string) string {
	const max = 100
	changes := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ';' })
	var b strings.Builder
	for i, c := range changes {
		c = strings.TrimSpace(c)
		if i > 0 && b.Len()+len(c)+2 > max {
			fmt.Fprintf(&b, "; … (%d changes in all; pinpoint revisions show)", len(changes))
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c)
	}
	return b.String()
}

func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
