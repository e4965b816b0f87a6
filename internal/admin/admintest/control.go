// Package admintest provides an admin.Control for tests of the admin API and
// the CLI: documents are decoded and validated by the real config package
// and revisions are kept in a real store, but nothing listens or proxies.
package admintest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ admin.Control = (*Control)(nil)

// Control is a gateway without listeners. Set the exported fields before
// first use.
type Control struct {
	// Store keeps the revisions. Required.
	Store store.Revisions
	// Now stamps revisions; nil means time.Now. Tests set a fixed clock to
	// get deterministic output.
	Now func() time.Time
	// LookupEnv resolves ${NAME} references; nil means no variable is set.
	LookupEnv func(string) (string, bool)
	// OwnedBy, when set, makes Apply (except dry runs) and Rollback return
	// *admin.OwnedByFileError naming it.
	OwnedBy string

	mu      sync.Mutex
	current store.Revision
	cfg     *config.Config
	notUp   error
}

// New returns a Control keeping revisions in st.
func New(st store.Revisions) *Control { return &Control{Store: st} }

// SetNotReady makes Ready fail with err even when a revision is served
// (listeners down); nil clears it.
func (c *Control) SetNotReady(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notUp = err
}

// Validate decodes and validates doc.
func (c *Control) Validate(_ context.Context, filename string, doc []byte) error {
	_, err := config.Load(filename, doc, c.lookup)
	return err
}

// Apply validates doc, diffs it against the served revision and, unless
// req.DryRun or the document is unchanged, appends a revision and serves it.
func (c *Control) Apply(ctx context.Context, req admin.ApplyRequest) (admin.ApplyResult, error) {
	if c.OwnedBy != "" && !req.DryRun {
		return admin.ApplyResult{}, &admin.OwnedByFileError{File: c.OwnedBy}
	}
	cfg, err := config.Load(req.Filename, req.Document, c.lookup)
	if err != nil {
		return admin.ApplyResult{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hash := config.Hash(req.Document)
	if c.current.Number > 0 && c.current.Hash == hash {
		cur := c.current
		cur.Document = nil
		return admin.ApplyResult{Revision: cur, Diff: config.Summary(nil), Unchanged: true, DryRun: req.DryRun}, nil
	}
	summary := config.Summary(config.Diff(c.cfg, cfg))
	if req.DryRun {
		return admin.ApplyResult{Revision: store.Revision{Hash: hash, Summary: summary}, Diff: summary, DryRun: true}, nil
	}
	rev, err := c.Store.AppendRevision(ctx, store.Revision{
		Author:    req.Author,
		Source:    req.Source,
		CreatedAt: c.now(),
		Hash:      hash,
		Summary:   summary,
		Document:  req.Document,
	})
	if err != nil {
		return admin.ApplyResult{}, fmt.Errorf("appending revision: %w", err)
	}
	c.current, c.cfg = rev, cfg
	return admin.ApplyResult{Revision: rev, Diff: summary}, nil
}

// Rollback applies revision n's document as a new revision with source
// "rollback:n".
func (c *Control) Rollback(ctx context.Context, n int64, author string) (admin.ApplyResult, error) {
	if c.OwnedBy != "" {
		return admin.ApplyResult{}, &admin.OwnedByFileError{File: c.OwnedBy}
	}
	rev, err := c.Store.Revision(ctx, n)
	if err != nil {
		return admin.ApplyResult{}, fmt.Errorf("revision %d: %w", n, err)
	}
	return c.Apply(ctx, admin.ApplyRequest{
		Filename: "revision-" + strconv.FormatInt(n, 10) + ".yaml",
		Document: rev.Document,
		Author:   author,
		Source:   "rollback:" + strconv.FormatInt(n, 10),
	})
}

// Revision is the number of the served revision (0: none).
func (c *Control) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current.Number
}

// Ready fails until a revision is served, and while SetNotReady holds an error.
func (c *Control) Ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current.Number == 0 {
		return errors.New("no configuration has been applied yet")
	}
	return c.notUp
}

func (c *Control) lookup(name string) (string, bool) {
	if c.LookupEnv == nil {
		return "", false
	}
	return c.LookupEnv(name)
}

func (c *Control) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Clock returns a deterministic clock for Control.Now: the first call
// yields start, each later call one minute more.
func Clock(start time.Time) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Minute)
		return t
	}
}
