package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// ruleState is what a node knows of one rule's alert.
type ruleState struct {
	// synced is set once the audit log was read for an alert another node
	// (or this one, before a restart) left firing.
	synced bool
	firing bool
	// onset is when the alert started firing; onsetKey its minute (Unix
	// seconds), which names the alert in the audit log's Dedupe keys.
	onset    time.Time
	onsetKey int64
	// reminder is the number of the last cooldown period notified (0: the
	// firing notification itself).
	reminder int64
	// clearSince is when the condition was first found clear again.
	clearSince time.Time
	// causes are the firing notification's causes.
	causes []Cause
}

// claimDetail is the Detail of alert audit entries.
type claimDetail struct {
	State       string    `json:"state"`
	Onset       time.Time `json:"onset"`
	OnsetKey    int64     `json:"onset_key"`
	Reminder    int64     `json:"reminder,omitempty"`
	Value       float64   `json:"value"`
	Threshold   float64   `json:"threshold"`
	Matched     int64     `json:"matched"`
	Requests    int64     `json:"requests"`
	Window      string    `json:"window"`
	LikelyCause string    `json:"likely_cause,omitempty"`
}

// evaluate runs one rule and sends what its state change calls for.
func (a *Alerter) evaluate(ctx context.Context, r *Rule, rows *rowSource, now time.Time, rev int64) error {
	st := a.states[r.Name()]
	if st == nil {
		st = &ruleState{}
		a.states[r.Name()] = st
	}
	if !st.synced {
		if err := a.sync(ctx, r, st); err != nil {
			return err
		}
		st.synced = true
	}
	obs, err := rows.measure(ctx, r)
	if err != nil {
		return err
	}
	defer func() {
		v := 0.0
		if st.firing {
			v = 1
		}
		a.metrics.firing.WithLabelValues(r.Name()).Set(v)
	}()
	switch {
	case obs.Firing && !st.firing:
		// Another node may have claimed this alert since we last looked.
		if err := a.sync(ctx, r, st); err != nil || st.firing {
			return err
		}
		return a.fire(ctx, r, st, obs, now, rev)
	case obs.Firing:
		st.clearSince = time.Time{}
		if k := int64(now.Sub(st.onset) / r.Config.Cooldown.Or(time.Hour)); k > st.reminder {
			if err := a.sync(ctx, r, st); err != nil || !st.firing {
				return err
			}
			return a.remind(ctx, r, st, obs, now, rev, k)
		}
	case st.firing:
		if st.clearSince.IsZero() {
			st.clearSince = now
		}
		if now.Sub(st.clearSince) < r.Config.ClearFor.D() {
			return nil
		}
		if err := a.sync(ctx, r, st); err != nil || !st.firing {
			return err
		}
		return a.resolve(ctx, r, st, obs, now, rev)
	}
	return nil
}

// sync brings st in line with the newest alert entry of the rule in the
// audit log: an alert claimed firing by any node is firing here too, and
// one resolved anywhere is resolved here. Entries are the claims of every
// node, so the newest one is the cluster's view of the alert.
func (a *Alerter) sync(ctx context.Context, r *Rule, st *ruleState) error {
	es, err := a.o.History.QueryAudit(ctx, store.AuditQuery{ObjectKind: store.AuditObjectAlert, ObjectID: r.Name(), Limit: 1})
	if err != nil {
		return fmt.Errorf("reading alert state from the audit log: %w", err)
	}
	if len(es) == 0 {
		return nil
	}
	var d claimDetail
	if err := json.Unmarshal(es[0].Detail, &d); err != nil {
		return nil // not an entry this package wrote; keep the local state
	}
	switch es[0].Action {
	case store.AuditAlertFired:
		if st.firing && st.onsetKey == d.OnsetKey {
			st.reminder = max(st.reminder, d.Reminder)
			return nil
		}
		*st = ruleState{synced: true, firing: true, onset: d.Onset, onsetKey: d.OnsetKey, reminder: d.Reminder}
		a.log.Info("alert firing on another node", "rule", r.Name(), "onset", d.Onset)
	case store.AuditAlertResolved:
		// A resolution of this alert, or of a later one, ends ours.
		if st.firing && d.OnsetKey >= st.onsetKey {
			st.firing, st.clearSince, st.causes = false, time.Time{}, nil
		}
	}
	return nil
}

// fire claims and sends a new alert.
func (a *Alerter) fire(ctx context.Context, r *Rule, st *ruleState, obs Observation, now time.Time, rev int64) error {
	causes, err := FindCauses(ctx, a.o.History, now, a.cfg.Alerts.CauseWindow.Or(15*time.Minute), obs.TopConsumers)
	if err != nil {
		return err
	}
	key := now.Truncate(time.Minute).Unix()
	n := a.notification(r, StateFiring, obs, now, rev, causes, nil)
	seq, err := a.claim(ctx, r, store.AuditAlertFired, "alert.fired:"+r.Name()+":"+strconv.FormatInt(key, 10), n, key, 0, rev)
	if err != nil {
		return err
	}
	*st = ruleState{synced: true, firing: true, onset: now, onsetKey: key, causes: causes}
	if seq == 0 {
		return nil // another node claimed it in the same minute
	}
	n.AuditSeq = seq
	a.log.Warn("alert firing", "rule", r.Name(), "value", obs.Value, "threshold", r.Threshold, "likely_cause", n.LikelyCause)
	a.notifier.send(r.Config.Webhooks, n)
	return nil
}

// remind claims and sends the reminder of cooldown period k of a firing alert.
func (a *Alerter) remind(ctx context.Context, r *Rule, st *ruleState, obs Observation, now time.Time, rev int64, k int64) error {
	n := a.notification(r, StateFiring, obs, st.onset, rev, st.causes, nil)
	n.Reminder = true
	dedupe := "alert.fired:" + r.Name() + ":" + strconv.FormatInt(st.onsetKey, 10) + ":" + strconv.FormatInt(k, 10)
	seq, err := a.claim(ctx, r, store.AuditAlertFired, dedupe, n, st.onsetKey, k, rev)
	if err != nil {
		return err
	}
	st.reminder = k
	if seq != 0 {
		n.AuditSeq = seq
		a.notifier.send(r.Config.Webhooks, n)
	}
	return nil
}

// resolve claims and sends the resolution of a firing alert.
func (a *Alerter) resolve(ctx context.Context, r *Rule, st *ruleState, obs Observation, now time.Time, rev int64) error {
	causes := st.causes
	if causes == nil {
		// Taken over from another node: look the causes up again.
		var err error
		if causes, err = FindCauses(ctx, a.o.History, st.onset, a.cfg.Alerts.CauseWindow.Or(15*time.Minute), obs.TopConsumers); err != nil {
			return err
		}
	}
	fixes, err := FindCauses(ctx, a.o.History, now, now.Sub(st.onset), nil)
	if err != nil {
		return err
	}
	n := a.notification(r, StateResolved, obs, st.onset, rev, causes, fixes)
	resolved := now
	n.ResolvedAt = &resolved
	seq, err := a.claim(ctx, r, store.AuditAlertResolved, "alert.resolved:"+r.Name()+":"+strconv.FormatInt(st.onsetKey, 10), n, st.onsetKey, 0, rev)
	if err != nil {
		return err
	}
	st.firing, st.clearSince, st.causes = false, time.Time{}, nil
	if seq != 0 {
		n.AuditSeq = seq
		a.log.Info("alert resolved", "rule", r.Name(), "value", obs.Value, "threshold", r.Threshold)
		a.notifier.send(r.Config.Webhooks, n)
	}
	return nil
}

// claim appends the alert's audit entry; it returns its Seq, or 0 when
// another node had already appended the same one.
func (a *Alerter) claim(ctx context.Context, r *Rule, action, dedupe string, n *Notification, key, reminder, rev int64) (int64, error) {
	detail, err := json.Marshal(claimDetail{
		State: n.State, Onset: n.Onset, OnsetKey: key, Reminder: reminder, Value: n.Value, Threshold: n.Threshold,
		Matched: n.Matched, Requests: n.Requests, Window: time.Duration(n.Window).String(), LikelyCause: n.LikelyCause,
	})
	if err != nil {
		return 0, fmt.Errorf("encoding alert audit detail: %w", err)
	}
	source := ""
	if a.o.Node != "" {
		source = "node:" + a.o.Node
	}
	e := []store.AuditEntry{{
		Actor: store.AuditSystemActor, Action: action, ObjectKind: store.AuditObjectAlert, ObjectID: r.Name(),
		Revision: rev, Source: source, Detail: detail, Dedupe: dedupe,
	}}
	if err := a.o.History.AppendAudit(ctx, e); err != nil {
		return 0, fmt.Errorf("claiming the alert notification in the audit log: %w", err)
	}
	return e[0].Seq, nil
}

// notification builds the body of a notification.
func (a *Alerter) notification(r *Rule, state string, obs Observation, onset time.Time, rev int64, causes, fixes []Cause) *Notification {
	n := &Notification{
		Rule: r.Name(), Description: r.Config.Description, State: state,
		Measure: r.Measure, Subject: r.describe(), Value: obs.Value, Threshold: r.Threshold,
		Matched: obs.Matched, Requests: obs.Requests, MinRequests: r.Config.MinRequests,
		Window: Duration(r.Config.Window.D()), WindowStart: obs.Since, WindowEnd: obs.Until,
		Onset: onset, Revision: rev, Node: a.o.Node,
		TopCodes: obs.TopCodes, TopConsumers: obs.TopConsumers, TopRoutes: obs.TopRoutes,
		Causes: append(make([]Cause, 0, len(causes)), causes...), ResolvedAfter: fixes,
	}
	n.summarize(a.policy)
	return n
}
