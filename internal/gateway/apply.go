package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/upstream"
)

var (
	errDraining     = errors.New("shutting down")
	errNoRevision   = errors.New("no configuration revision loaded")
	errNotListening = errors.New("listeners not started")
)

var _ admin.Control = (*Gateway)(nil)

func (g *Gateway) lookupEnv() func(string) (string, bool) {
	if g.o.LookupEnv != nil {
		return g.o.LookupEnv
	}
	return os.LookupEnv
}

// Validate implements admin.Control: decode, validate and compile aside.
func (g *Gateway) Validate(_ context.Context, filename string, doc []byte) error {
	cfg, err := config.Load(filename, doc, g.lookupEnv())
	if err != nil {
		return err
	}
	s, fresh, err := compile(cfg, g.snap.Load(), g.o)
	discard(s, fresh)
	return withFile(err, filename)
}

// Apply implements admin.Control. Admin-API and CLI applies are refused while
// a config file owns the configuration.
func (g *Gateway) Apply(ctx context.Context, req admin.ApplyRequest) (admin.ApplyResult, error) {
	if g.o.ConfigFile != "" {
		return admin.ApplyResult{}, &admin.OwnedByFileError{File: g.o.ConfigFile}
	}
	return g.apply(ctx, req)
}

// ApplyFile applies the owning config file (at start, on change, on SIGHUP).
func (g *Gateway) ApplyFile(ctx context.Context, path string) (admin.ApplyResult, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		g.o.Metrics.Reload("failed")
		return admin.ApplyResult{}, fmt.Errorf("read config: %w", err)
	}
	return g.apply(ctx, admin.ApplyRequest{Filename: path, Document: doc, Author: "file", Source: "file:" + path})
}

// Rollback implements admin.Control: revision n's document becomes a new revision.
func (g *Gateway) Rollback(ctx context.Context, n int64, author string) (admin.ApplyResult, error) {
	if g.o.ConfigFile != "" {
		return admin.ApplyResult{}, &admin.OwnedByFileError{File: g.o.ConfigFile}
	}
	rev, err := g.o.Store.Revision(ctx, n)
	if err != nil {
		return admin.ApplyResult{}, err
	}
	return g.apply(ctx, admin.ApplyRequest{
		Filename: "revision-" + strconv.FormatInt(n, 10) + ".yaml",
		Document: rev.Document,
		Author:   author,
		Source:   "rollback:" + strconv.FormatInt(n, 10),
	})
}

// apply is build-aside-then-swap: decode, validate and compile the new
// revision next to the running one; commit it to the store; only then
// publish it. Any failure leaves the running snapshot serving.
func (g *Gateway) apply(ctx context.Context, req admin.ApplyRequest) (admin.ApplyResult, error) {
	g.applyMu.Lock()
	defer g.applyMu.Unlock()

	cur := g.snap.Load()
	cfg, err := config.Load(req.Filename, req.Document, g.lookupEnv())
	if err != nil {
		g.rejected(ctx, req, err)
		return admin.ApplyResult{}, err
	}
	hash := config.Hash(req.Document)
	var curCfg *config.Config
	if cur != nil {
		curCfg = cur.Config
	}
	diff := config.Summary(config.Diff(curCfg, cfg))
	if cur != nil && cur.Hash == hash {
		g.o.Metrics.Reload("unchanged")
		return admin.ApplyResult{Revision: g.revisionMeta(ctx, cur), Diff: diff, Unchanged: true, DryRun: req.DryRun}, nil
	}

	next, fresh, err := compile(cfg, cur, g.o)
	if err != nil {
		err = withFile(err, req.Filename)
		g.rejected(ctx, req, err)
		return admin.ApplyResult{}, err
	}
	if req.DryRun {
		defer discard(next, fresh)
		imp, err := g.impact(ctx, cur, next, req.Impact)
		if err != nil {
			return admin.ApplyResult{}, err
		}
		return admin.ApplyResult{Revision: store.Revision{Hash: hash, Summary: diff}, Diff: diff, DryRun: true, Impact: imp}, nil
	}

	rev, err := g.o.Store.AppendRevision(ctx, store.Revision{
		Author: req.Author, Source: req.Source, Hash: hash, Summary: diff, Document: req.Document,
	})
	if err != nil {
		discard(next, fresh)
		g.o.Metrics.Reload("failed")
		return admin.ApplyResult{}, fmt.Errorf("store revision: %w", err)
	}
	g.publish(next, fresh, rev.Number, hash)
	g.log.Info("configuration applied", "revision", rev.Number, "source", req.Source, "author", req.Author, "changes", diff)
	rev.Document = nil
	return admin.ApplyResult{Revision: rev, Diff: diff}, nil
}

// publish swaps next in and retires what the old snapshot alone used.
func (g *Gateway) publish(next *Snapshot, fresh []*upstream.Upstream, number int64, hash string) {
	next.Revision, next.Hash = number, hash
	for _, u := range fresh {
		u.Start()
	}
	g.publishTokenKeys(next.Config)
	old := g.snap.Swap(next)
	release(old, next)
	g.o.counters.waf.Retain(next.firewall)
	g.o.Metrics.Reload("applied")
	g.o.Metrics.SetRevision(number)
	if old != nil && listenersChanged(old.Config, next.Config) {
		g.log.Warn("listener changes take effect at the next restart", "revision", number)
	}
}

// LoadLatest publishes the newest stored revision (at start). It returns
// store.ErrNotFound when the store holds none.
func (g *Gateway) LoadLatest(ctx context.Context) (store.Revision, error) {
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	rev, err := g.o.Store.LatestRevision(ctx)
	if err != nil {
		return rev, err
	}
	return rev, g.publishStored(rev)
}

// publishStored compiles a stored revision and publishes it; the caller
// holds applyMu.
func (g *Gateway) publishStored(rev store.Revision) error {
	cfg, err := config.Load("revision-"+strconv.FormatInt(rev.Number, 10)+".yaml", rev.Document, g.lookupEnv())
	if err != nil {
		return fmt.Errorf("revision %d no longer loads: %w", rev.Number, err)
	}
	next, fresh, err := compile(cfg, g.snap.Load(), g.o)
	if err != nil {
		return fmt.Errorf("revision %d no longer compiles: %w", rev.Number, err)
	}
	g.publish(next, fresh, rev.Number, rev.Hash)
	return nil
}

func (g *Gateway) rejected(ctx context.Context, req admin.ApplyRequest, err error) {
	g.o.Metrics.Reload("rejected")
	g.log.Error("configuration rejected; the running revision keeps serving",
		"source", req.Source, "revision", g.Revision(), "error", err.Error())
	if !req.DryRun {
		g.auditRejected(ctx, req, err)
	}
}

func (g *Gateway) revisionMeta(ctx context.Context, s *Snapshot) store.Revision {
	if s.Revision == 0 {
		return store.Revision{Hash: s.Hash}
	}
	rev, err := g.o.Store.Revision(ctx, s.Revision)
	if err != nil {
		return store.Revision{Number: s.Revision, Hash: s.Hash}
	}
	rev.Document = nil
	return rev
}

// withFile stamps the file name on compile errors, which carry only a path.
func withFile(err error, filename string) error {
	var errs config.Errors
	if !errors.As(err, &errs) {
		return err
	}
	for i := range errs {
		if errs[i].File == "" {
			errs[i].File = filename
		}
	}
	return errs
}

func listenersChanged(a, b *config.Config) bool {
	return !reflect.DeepEqual(a.Listeners, b.Listeners)
}
