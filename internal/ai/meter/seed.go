package meter

import (
	"github.com/pinpointgw/pinpoint/internal/ai/pricing"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// seedSet is the spend read from the usage records, per caller key, for
// one UTC day and month. It is never changed once published: Seed
// replaces it whole.
type seedSet struct {
	day, month int32
	keys       map[string]seedSpend
}

type seedSpend struct{ day, month pricing.Money }

// spend returns key's seeded spend of c's day and month (zero once they
// have passed). s may be nil.
func (s *seedSet) spend(key string, c clock) (day, month pricing.Money) {
	if s == nil || s.month != c.month {
		return
	}
	v, ok := s.keys[key]
	if !ok {
		return
	}
	if s.day == c.day {
		day = v.day
	}
	return day, v.month
}

// Seed adds spend persisted before this process started: the rows of
// store.AIUsage.AISpend since the first of the current UTC month. Each row's
// cost counts toward its consumer's, tenant's and credential's keys
// ("consumer:<id>", "tenant:<id>", "credential:<id>"), in the month and, for
// a row of today, in the day, for every rule that counts by that key.
// Rows of other months are ignored.
//
// The usage records do not say which rule admitted a call, so a rule that
// covers only some models still sees the caller's whole spend: budgets err
// toward refusing. Call Seed once, before serving: spend a call settles in
// this Meter and also finds in later rows would count twice.
func (m *Meter) Seed(rows []store.AISpendRow) {
	c := at(m.now())
	for {
		old := m.seeded.Load()
		next := &seedSet{day: c.day, month: c.month, keys: map[string]seedSpend{}}
		if old != nil && old.month == c.month {
			for k, v := range old.keys {
				if old.day != c.day {
					v.day = pricing.Money{}
				}
				next.keys[k] = v
			}
		}
		for _, r := range rows {
			sec := r.Day.Unix()
			if at(r.Day).month != c.month {
				continue
			}
			cost := pricing.FromPicodollars(max(r.CostPico, 0))
			today := dayOf(sec) == c.day
			for _, k := range [...]struct{ prefix, id string }{
				{"consumer:", r.ConsumerID}, {"tenant:", r.TenantID}, {"credential:", r.CredentialID},
			} {
				if k.id == "" {
					continue
				}
				v := next.keys[k.prefix+k.id]
				v.month = v.month.Add(cost)
				if today {
					v.day = v.day.Add(cost)
				}
				next.keys[k.prefix+k.id] = v
			}
		}
		if m.seeded.CompareAndSwap(old, next) {
			return
		}
	}
}
