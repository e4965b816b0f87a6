package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// DefaultFollowPoll is how often Follow checks the store for a newer
// revision when no notification says so.
const DefaultFollowPoll = time.Second

// Follow keeps the gateway serving what its store holds while other
// gateways write to the same store (cluster mode), until ctx ends.
//
// A store that implements store.Notifier (PostgreSQL) reports every commit:
// a new revision is published as soon as it is reported, and a changed,
// revoked or deleted tenant, consumer or key is re-read into the live
// identity registry. After the notification connection was (re)established
// everything is resynchronized, since changes may have been missed. In
// addition, and with any store, the newest revision is checked every poll
// (poll <= 0: DefaultFollowPoll), so revisions arrive even while
// notifications are unavailable. While they are (a store without
// store.Notifier, or a notification connection being re-established),
// every identity is also resynchronized each identityPollFactor polls, so
// a revoked key or a suspended consumer is refused here within that time
// even when no notification reports it.
//
// A stored revision that does not compile here is logged once and skipped;
// the running revision keeps serving. Follow serializes with Apply, so a
// revision is never published out of order.
func (g *Gateway) Follow(ctx context.Context, poll time.Duration) {
	if g.o.Store == nil {
		return
	}
	if poll <= 0 {
		poll = DefaultFollowPoll
	}
	f := &follower{g: g, poll: poll}
	events := make(chan store.Event, 64)
	var listener sync.WaitGroup
	defer listener.Wait()
	n, notifies := g.o.Store.(store.Notifier)
	// Until the listener reports its first connection, changes may be missed.
	f.lost = notifies
	if notifies {
		listener.Go(func() {
			err := n.Listen(ctx, func(e store.Event) {
				select {
				case events <- e:
				case <-ctx.Done():
				}
			})
			if err != nil {
				g.log.Error("change notifications stopped; following by polling", "error", err)
				select {
				case events <- store.Event{Kind: store.EventDisconnected, Err: err}:
				case <-ctx.Done():
				}
			}
		})
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-events:
			f.handle(ctx, e)
		case <-tick.C:
			f.catchUp(ctx)
			f.ticks++
			if f.resync || ((!notifies || f.lost) && f.ticks%identityPollFactor == 0) {
				f.syncIdentities(ctx)
			}
		}
	}
}

// identityPollFactor: without notifications, identities are
// resynchronized every this many revision polls (10 s by default).
const identityPollFactor = 10

// follower is Follow's state; only Follow's goroutine uses it.
type follower struct {
	g    *Gateway
	poll time.Duration
	// ticks counts polls.
	ticks int
	// skipped is the newest revision that could not be served here.
	skipped int64
	// resync is set when an identity reload failed: the next poll
	// resynchronizes every identity.
	resync bool
	// lost is set while notifications are unavailable (warned once that
	// was logged); storeDown while the store cannot be read (logged once).
	lost, warned, storeDown bool
}

func (f *follower) handle(ctx context.Context, e store.Event) {
	g := f.g
	var err error
	switch e.Kind {
	case store.EventRevision:
		f.catchUp(ctx)
		return
	case store.EventTenant:
		err = g.o.Identities.ReloadTenant(ctx, g.o.Store, e.ID)
	case store.EventConsumer:
		err = g.o.Identities.ReloadConsumer(ctx, g.o.Store, e.ID)
	case store.EventKey:
		err = g.o.Identities.ReloadKey(ctx, g.o.Store, e.ID)
	case store.EventDisconnected:
		if !f.lost || !f.warned {
			f.lost, f.warned = true, true
			g.log.Warn("change notifications lost; reconnecting, and checking for new revisions every "+f.poll.String(),
				"error", errString(e.Err))
		}
		return
	case store.EventReconnected:
		if f.warned {
			f.warned = false
			g.log.Info("change notifications restored; resynchronizing")
		}
		f.lost = false
		f.catchUp(ctx)
		f.syncIdentities(ctx)
		return
	default:
		return
	}
	if err != nil && ctx.Err() == nil {
		f.resync = true
		g.log.Warn("stored identity change not loaded; resynchronizing at the next poll",
			"kind", e.Kind, "id", e.ID, "error", err)
	}
}

// syncIdentities makes the live identity registry equal to the store.
func (f *follower) syncIdentities(ctx context.Context) {
	if err := f.g.o.Identities.Sync(ctx, f.g.o.Store); err != nil {
		if ctx.Err() == nil {
			f.resync = true
			f.g.log.Warn("identities not resynchronized from the store; retrying at the next poll", "error", err)
		}
		return
	}
	f.resync = false
}

// catchUp publishes the newest stored revision when it is newer than the
// one being served.
func (f *follower) catchUp(ctx context.Context) {
	g := f.g
	// The listing leaves the document out: a poll that finds nothing new
	// reads one small row.
	revs, err := g.o.Store.ListRevisions(ctx, 1, 0)
	if err != nil {
		if ctx.Err() == nil && !f.storeDown {
			f.storeDown = true
			g.log.Warn("store unreachable; newer revisions are not followed until it answers", "error", err)
		}
		return
	}
	if f.storeDown {
		f.storeDown = false
		g.log.Info("store reachable again")
	}
	if len(revs) == 0 || revs[0].Number <= g.Revision() || revs[0].Number <= f.skipped {
		return
	}
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	rev, err := g.o.Store.LatestRevision(ctx)
	if err != nil || rev.Number <= g.Revision() {
		return
	}
	if err := g.publishStored(rev); err != nil {
		f.skipped = rev.Number
		g.o.Metrics.Reload("rejected")
		g.log.Error("stored revision cannot be served here; the running revision keeps serving",
			"revision", rev.Number, "serving", g.Revision(), "error", err.Error())
		return
	}
	g.log.Info("configuration followed from the store", "revision", rev.Number, "source", rev.Source,
		"author", rev.Author, "changes", rev.Summary)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
