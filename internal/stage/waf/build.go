package waf

import (
	"errors"
	"strings"
	"time"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
)

// engine is one compiled rule set, shared by every route (of every
// revision) whose settings have its key.
type engine struct {
	waf   coraza.WAF
	txs   experimental.WAFWithOptions
	key   string
	rules int
	// built is how long the build took.
	built time.Duration
}

// close releases the engine's share of Coraza's compiled-pattern cache.
// Transactions still running on it are unaffected.
func (e *engine) close() {
	if c, ok := e.waf.(experimental.WAFCloser); ok {
		_ = c.Close()
	}
}

// pieceError is a build failure traced to the piece that caused it.
type pieceError struct {
	piece piece
	msg   string
}

func (e *pieceError) Error() string {
	if e.piece.path == "" {
		return e.msg
	}
	return e.piece.path + ": " + e.msg
}

// field returns the config field to blame.
func (e *pieceError) field() string {
	if e.piece.idPath != "" && strings.Contains(e.msg, "not found") {
		return e.piece.idPath
	}
	return e.piece.path
}

// build compiles s into an engine. When Coraza refuses the rule set, the
// piece at fault is found by bisection over prefixes of the pieces (a
// prefix fails exactly when it holds the first failing piece), which
// costs a few more builds on the error path only.
func build(s *settings, key string) (*engine, error) {
	ps := s.pieces()
	t0 := time.Now()
	w, err := compile(ps)
	if err != nil {
		return nil, locate(ps, err)
	}
	e := &engine{waf: w, key: key, built: time.Since(t0)}
	var ok bool
	if e.txs, ok = w.(experimental.WAFWithOptions); !ok {
		return nil, errors.New("coraza WAF does not support transaction options")
	}
	if rc, ok := w.(experimental.WAFWithRules); ok {
		e.rules = rc.RulesCount()
	}
	return e, nil
}

// compile builds a Coraza WAF from ps over the embedded CRS files.
func compile(ps []piece) (coraza.WAF, error) {
	cfg := coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithErrorCallback(logMatch)
	for _, p := range ps {
		cfg = cfg.WithDirectives(p.text)
	}
	return coraza.NewWAF(cfg)
}

// locate finds the piece that makes the rule set fail.
func locate(ps []piece, full error) error {
	lo, hi := 0, len(ps) // ps[:lo] builds, ps[:hi] fails
	last := full
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		w, err := compile(ps[:mid])
		if err == nil {
			if c, ok := w.(experimental.WAFCloser); ok {
				_ = c.Close()
			}
			lo = mid
			continue
		}
		hi, last = mid, err
	}
	p := ps[hi-1]
	name, inner := corazaMessage(last)
	msg := inner
	switch {
	case p.generated:
		// Quote the directive Pinpoint wrote; Coraza may repeat its name.
		dir, _, _ := strings.Cut(p.text, " ")
		msg = p.text + ": " + strings.TrimPrefix(inner, dir+": ")
	case name != "":
		msg = name + ": " + inner
	}
	return &pieceError{piece: p, msg: msg}
}

// corazaMessage splits a Coraza parse error ("invalid WAF config from
// string: failed to compile the directive \"secrule\": …") into the
// directive's name ("" when the error does not say) and the message.
func corazaMessage(err error) (name, msg string) {
	msg = strings.TrimPrefix(err.Error(), "invalid WAF config from string: ")
	if rest, ok := strings.CutPrefix(msg, "failed to compile the directive "); ok {
		if n, inner, ok := strings.Cut(rest, ": "); ok {
			return strings.Trim(n, `"`), inner
		}
	}
	return "", msg
}

// logMatch is every engine's error callback: it writes the line of a
// matched log rule to the error log of the stage that runs the
// transaction (carried in the transaction's context).
func logMatch(mr types.MatchedRule) {
	if l := errorLogOf(mr); l != nil {
		l.write(mr)
	}
}
