package quota

import (
	"context"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/stage/stagetest"
)

// TestPeekReadsTheCountAndCountsNothing: a peek sees the stored count
// plus this node's, decides like Take, and never reaches the store.
func TestPeekReadsTheCountAndCountsNothing(t *testing.T) {
	t.Parallel()
	st, _ := sqliteStore(t)
	c := newCounter(t, st, stagetest.NewClock(march))
	take(c, 3, true, ref("c_1"))
	peek := func() ([]Item, bool) {
		items := []Item{{Ref: ref("c_1"), Limit: 3, Enforce: true}}
		return items, c.Peek(context.Background(), items)
	}
	for range 4 {
		items, ok := peek()
		if !ok || !items[0].Fits || !items[0].Charged || items[0].Used != 2 {
			t.Fatalf("peek: ok %v %+v", ok, items[0])
		}
	}
	take(c, 3, true, ref("c_1"))
	take(c, 3, true, ref("c_1"))
	items, ok := peek()
	if ok || items[0].Fits || items[0].Charged || items[0].Used != 3 {
		t.Fatalf("peek of a used-up quota: ok %v %+v", ok, items[0])
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := st.QuotaUsage(context.Background(), "orders", "monthly", "consumer:c_1", march); err != nil || n != 3 {
		t.Fatalf("stored %d (%v), want the 3 takes only", n, err)
	}
	// A fresh counter peeks at the stored value.
	c2 := newCounter(t, st, stagetest.NewClock(march))
	items = []Item{{Ref: ref("c_1"), Limit: 5, Enforce: true}}
	if !c2.Peek(context.Background(), items) || items[0].Used != 4 || !items[0].Loaded {
		t.Fatalf("peek on a fresh counter: %+v", items[0])
	}
	Unpeek(items)
	if items[0].Used != 3 || items[0].Charged {
		t.Fatalf("unpeek: %+v", items[0])
	}
	if err := c2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.QuotaUsage(context.Background(), "orders", "monthly", "consumer:c_1", march); n != 3 {
		t.Fatalf("a peeking counter flushed: stored %d", n)
	}
}
