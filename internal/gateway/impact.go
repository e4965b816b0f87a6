package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxImpactExamples is how many request ids a change group lists.
const maxImpactExamples = 3

// impact replays the decision inputs of recent calls (the newest
// w.Limit of the last w.Since) through cur and next, both simulated, and
// reports the requests whose outcome differs. Simulating both sides makes
// what neither revision decides (limit counts, upstream health, the time
// of day) the same on both, so only the change shows.
func (g *Gateway) impact(ctx context.Context, cur, next *Snapshot, w admin.ImpactWindow) (*admin.Impact, error) {
	if w.Off || cur == nil || g.o.Store == nil {
		return nil, nil
	}
	w = w.Bounded()
	now := time.Now()
	calls, err := g.o.Store.QueryCalls(ctx, store.CallQuery{Since: now.Add(-w.Since), Limit: w.Limit})
	if err != nil {
		return nil, fmt.Errorf("read recent calls for the change impact: %w", err)
	}
	imp := &admin.Impact{Since: now.Add(-w.Since), Until: now, Limit: w.Limit, Considered: len(calls), Groups: []admin.ImpactGroup{}}
	type groupKey struct{ change, route, consumer, from, to string }
	groups := map[groupKey]*admin.ImpactGroup{}
	for i := range calls {
		c := &calls[i]
		var in pipeline.Inputs
		if len(c.Inputs) == 0 || json.Unmarshal(c.Inputs, &in) != nil {
			imp.WithoutInputs++
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		imp.Replayed++
		if in.BodyOmitted {
			imp.WithoutBody++
		}
		d := replayOf(&in)
		before, _ := g.simulateOn(ctx, cur, d)
		after, _ := g.simulateOn(ctx, next, d)
		if before.code == after.code {
			continue
		}
		imp.Changed++
		k := groupKey{change: admin.ImpactCodeChanged, from: before.code, to: after.code}
		switch {
		case before.code == "":
			k.change = admin.ImpactNewlyDenied
		case after.code == "":
			k.change = admin.ImpactNewlyAllowed
		}
		k.route = cmp.Or(after.x.Route, before.x.Route, c.Route)
		k.consumer = cmp.Or(after.x.Identity.ConsumerID, before.x.Identity.ConsumerID, c.ConsumerID)
		grp := groups[k]
		if grp == nil {
			grp = &admin.ImpactGroup{Change: k.change, Route: k.route, Consumer: k.consumer, From: k.from, To: k.to, Examples: []string{}}
			groups[k] = grp
		}
		grp.Count++
		if len(grp.Examples) < maxImpactExamples {
			grp.Examples = append(grp.Examples, c.RequestID)
		}
	}
	for _, grp := range groups {
		imp.Groups = append(imp.Groups, *grp)
	}
	slices.SortFunc(imp.Groups, func(a, b admin.ImpactGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Change, b.Change), cmp.Compare(a.Route, b.Route),
			cmp.Compare(a.Consumer, b.Consumer), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return imp, nil
}
