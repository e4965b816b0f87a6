package alert_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/alert"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// Causes are the changes of the cause window before the onset: events
// about the refused consumers and revisions first, newest first, then
// unrelated events; nothing after the onset or before the window.
func TestFindCauses(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	onset := base.Add(30 * time.Minute)
	appendRevision(t, st, "ops", "file:/etc/pinpoint.yaml", "+ route orders", onset.Add(-time.Hour)) // before the window
	appendRevision(t, st, "alice", "admin-api", "~ route orders: authorize.scopes", onset.Add(-10*time.Minute))
	appendRevision(t, st, "bob", "cli", "~ upstream u: timeouts.connect", onset.Add(-3*time.Minute))
	appendRevision(t, st, "carol", "cli", "- route users", onset.Add(time.Minute)) // after the onset
	detail := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	err := st.AppendAudit(t.Context(), []store.AuditEntry{
		{Time: onset.Add(-2 * time.Minute), Actor: "dave", Action: store.AuditKeyRevoked, ObjectKind: store.AuditObjectKey,
			ObjectID: "pp_live_ab12", Source: "admin-api", Detail: detail(map[string]string{"consumer": "acme"})},
		{Time: onset.Add(-time.Minute), Actor: "erin", Action: store.AuditConsumerSuspended, ObjectKind: store.AuditObjectConsumer,
			ObjectID: "initech", Source: "cli"},
		{Time: onset.Add(-4 * time.Minute), Actor: "frank", Action: store.AuditConsumerSuspended, ObjectKind: store.AuditObjectConsumer,
			ObjectID: "acme", Source: "cli"},
		{Time: onset.Add(-time.Minute), Actor: "ops", Action: store.AuditAdminTokenCreated, ObjectKind: store.AuditObjectAdminToken, ObjectID: "ci"},
	})
	if err != nil {
		t.Fatal(err)
	}
	causes, err := alert.FindCauses(t.Context(), st, onset, 15*time.Minute, []alert.Top{{Name: "acme", Count: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range causes {
		got = append(got, c.Sentence())
	}
	want := []string{
		"started 2 min after key.revoked of key pp_live_ab12 (dave, admin-api)",
		"started 3 min after revision 3 (bob, cli): ~ upstream u: timeouts.connect",
		"started 4 min after consumer.suspended of consumer acme (frank, cli)",
		"started 10 min after revision 2 (alice, admin-api): ~ route orders: authorize.scopes",
		"started 1 min after consumer.suspended of consumer initech (erin, cli)",
	}
	if len(got) != len(want) {
		t.Fatalf("causes:\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cause %d = %q, want %q", i, got[i], want[i])
		}
	}
	if !causes[0].Related || causes[4].Related {
		t.Errorf("related flags: %+v", causes)
	}
}

func TestSentenceDurations(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond: "started less than a second after revision 7 (alice)",
		40 * time.Second:       "started 40 s after revision 7 (alice)",
		150 * time.Second:      "started 3 min after revision 7 (alice)",
		90 * time.Minute:       "started 1.5 h after revision 7 (alice)",
	} {
		c := alert.Cause{Kind: alert.CauseRevision, Revision: 7, Author: "alice", Before: alert.Duration(d)}
		if got := c.Sentence(); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}
