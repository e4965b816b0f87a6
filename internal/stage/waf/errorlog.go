package waf

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corazawaf/coraza/v3/types"
)

// errorLog is the file of waf.error_log: one ModSecurity-style line per
// matched rule that has the log action, with matched data redacted. It
// is safe for concurrent use. Lines are buffered and flushed once per
// request that wrote any (see flush), which costs one write per logged
// request instead of one per line.
type errorLog struct {
	path   string
	logger *slog.Logger

	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	closed bool
	// failing is set after a write error was reported, so a full disk
	// is reported once rather than per line; a successful flush clears it.
	failing bool

	pending atomic.Bool
}

// openErrorLog opens (creating or appending to) the file at path.
func openErrorLog(path string, logger *slog.Logger) (*errorLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &errorLog{path: path, logger: logger, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// errorLogKey is the context key under which a stage passes its error log
// to the engine's error callback.
type errorLogKey struct{}

// withErrorLog returns the context a stage gives its transactions.
func withErrorLog(l *errorLog) context.Context {
	if l == nil {
		return context.Background()
	}
	return context.WithValue(context.Background(), errorLogKey{}, l)
}

// errorLogOf returns the error log of the stage whose transaction
// matched mr, or nil.
func errorLogOf(mr types.MatchedRule) *errorLog {
	c, ok := mr.(interface{ Context() context.Context })
	if !ok {
		return nil
	}
	ctx := c.Context()
	if ctx == nil {
		return nil
	}
	l, _ := ctx.Value(errorLogKey{}).(*errorLog)
	return l
}

// linePool recycles the buffers lines are formatted in.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// write appends the line of mr.
func (l *errorLog) write(mr types.MatchedRule) {
	bp := linePool.Get().(*[]byte)
	line := appendLine((*bp)[:0], mr, time.Now())
	l.mu.Lock()
	if !l.closed {
		_, _ = l.w.Write(line)
		l.pending.Store(true)
	}
	l.mu.Unlock()
	*bp = line
	linePool.Put(bp)
}

// flush writes the buffered lines to the file, if there are any.
func (l *errorLog) flush() {
	if l == nil || !l.pending.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending.Store(false)
	if l.closed {
		return
	}
	if err := l.w.Flush(); err != nil {
		if !l.failing && l.logger != nil {
			l.logger.Error("waf error log write failed; matched-rule lines are lost until it succeeds", "path", l.path, "err", err)
		}
		l.failing = true
		// A bufio.Writer keeps failing once it failed; start afresh.
		l.w.Reset(l.f)
		return
	}
	l.failing = false
}

// close flushes and closes the file. Lines written afterwards (by
// requests of a replaced revision still running) are dropped.
func (l *errorLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	ferr := l.w.Flush()
	cerr := l.f.Close()
	if ferr != nil {
		return ferr
	}
	return cerr
}

// appendLine formats mr the way Coraza's MatchedRule.ErrorLog does
// (ModSecurity's error log format), with three differences that keep
// request values out of the file: [data "…"] (the rule's logdata, which
// in CRS quotes the matched value) is redacted, [uri "…"] is the path
// without the query string, and the message is quoted and stripped of
// line breaks so that a macro-expanded message cannot forge a line. The
// message itself is kept: it is the rule author's text (go-ftw's marker
// rule logs its marker there).
//
//	2026-05-04T10:00:00.000Z [client "192.0.2.7"] Coraza: Warning. SQL Injection Attack Detected via libinjection [file "@owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "46"] [id "942100"] … [unique_id "01JD…"]
func appendLine(b []byte, mr types.MatchedRule, now time.Time) []byte {
	r := mr.Rule()
	msg := mr.Message()
	if len(msg) > maxLogMessage {
		msg = msg[:maxLogMessage]
	}
	b = now.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ` [client `...)
	b = strconv.AppendQuote(b, mr.ClientIPAddress())
	b = append(b, "] "...)
	b = appendAction(b, mr, r.Phase())
	b = appendPlain(b, msg)
	b = field(b, "file", r.File())
	b = field(b, "line", strconv.Itoa(r.Line()))
	b = field(b, "id", strconv.Itoa(r.ID()))
	b = field(b, "rev", r.Revision())
	b = field(b, "msg", msg)
	data := ""
	if mr.Data() != "" {
		data = redacted
	}
	b = field(b, "data", data)
	b = field(b, "severity", severityName(r.Severity()))
	b = field(b, "ver", r.Version())
	b = field(b, "maturity", strconv.Itoa(r.Maturity()))
	b = field(b, "accuracy", strconv.Itoa(r.Accuracy()))
	for _, t := range r.Tags() {
		b = field(b, "tag", t)
	}
	b = field(b, "hostname", mr.ServerIPAddress())
	uri, _, _ := strings.Cut(mr.URI(), "?")
	b = field(b, "uri", uri)
	b = field(b, "unique_id", mr.TransactionID())
	return append(b, '\n')
}

// maxLogMessage bounds a message the way Coraza does.
const maxLogMessage = 280

// redacted replaces matched data in the error log.
const redacted = "[redacted]"

// field appends ` [name "value"]`.
func field(b []byte, name, value string) []byte {
	b = append(b, " ["...)
	b = append(b, name...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, value)
	return append(b, ']')
}

// appendPlain appends s without control characters.
func appendPlain(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// severityName is the severity as ModSecurity logs it.
func severityName(s types.RuleSeverity) string {
	if s == types.RuleSeverityUnset {
		return ""
	}
	return s.String()
}

// appendAction appends what the rule did, as Coraza writes it: "Coraza:
// Warning. " for rules that pass, "Coraza: Access denied (phase 2). " for
// a deny.
func appendAction(b []byte, mr types.MatchedRule, phase types.RulePhase) []byte {
	if !mr.Disruptive() {
		return append(b, "Coraza: Warning. "...)
	}
	label := ""
	switch disruptiveAction(mr) {
	case "pass", "":
		return append(b, "Coraza: Warning. "...)
	case "deny":
		label = "Access denied"
	case "drop":
		label = "Access dropped"
	case "allow":
		label = "Access allowed"
	case "redirect":
		label = "Access redirected"
	default:
		label = "Custom disruptive action triggered"
	}
	b = append(b, "Coraza: "...)
	b = append(b, label...)
	b = append(b, " (phase "...)
	b = strconv.AppendInt(b, int64(phase), 10)
	return append(b, "). "...)
}

// disruptiveActions are the values of Coraza's DisruptiveAction enum
// (internal/corazarules), in order; TestErrorLogDeny pins them.
var disruptiveActions = [...]string{"unknown", "allow", "deny", "drop", "pass", "redirect"}

// disruptiveAction reads the disruptive action of a matched rule. Coraza
// records it in an exported field of its internal MatchedRule type but
// offers no method for it, so it is read by reflection; "" when the
// field cannot be found.
func disruptiveAction(mr types.MatchedRule) string {
	v := reflect.ValueOf(mr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName("DisruptiveAction_")
	if !f.IsValid() || !f.CanInt() {
		return ""
	}
	n := f.Int()
	if n < 0 || n >= int64(len(disruptiveActions)) {
		return ""
	}
	return disruptiveActions[n]
}
