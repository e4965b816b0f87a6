package store

import (
	"testing"
	"time"
)

func TestActionPrefix(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		action, prefix string
		ok             bool
	}{
		{"key.*", "key.", true},
		{"decision_key.*", "decision_key.", true},
		{"key.created", "", false},
		{"*", "", false},
		{".*", "", false},
		{"key*", "", false},
		{"", "", false},
	} {
		p, ok := AuditQuery{Action: tt.action}.ActionPrefix()
		if p != tt.prefix || ok != tt.ok {
			t.Errorf("ActionPrefix(%q) = %q, %v; want %q, %v", tt.action, p, ok, tt.prefix, tt.ok)
		}
	}
}

func TestCoalesceRollups(t *testing.T) {
	t.Parallel()
	b := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)
	row := func(route string, n int64, lat string) Rollup {
		return Rollup{Level: LevelMinute, Bucket: b, Kind: RollupRequest, Route: route, Count: n,
			UpstreamErrors: 1, LatencySum: time.Duration(n), Latency: []byte(lat)}
	}
	in := []Rollup{row("a", 1, "x"), row("b", 2, ""), row("a", 3, "y"), row("b", 4, "z"), row("a", 5, "")}
	cat := func(old, new []byte) []byte { return append(append(append([]byte{}, old...), '+'), new...) }
	got := CoalesceRollups(in, cat)
	if len(got) != 2 || got[0].Route != "a" || got[1].Route != "b" {
		t.Fatalf("CoalesceRollups = %+v", got)
	}
	if a := got[0]; a.Count != 9 || a.UpstreamErrors != 3 || a.LatencySum != 9 || string(a.Latency) != "x+y" {
		t.Errorf("a = %+v (latency %q)", a, a.Latency)
	}
	if b := got[1]; b.Count != 6 || string(b.Latency) != "z" {
		t.Errorf("b = %+v (latency %q)", b, b.Latency)
	}
	if in[0].Count != 1 || string(in[0].Latency) != "x" {
		t.Errorf("CoalesceRollups modified its input: %+v", in[0])
	}
}

func TestRevisionAuditEntry(t *testing.T) {
	t.Parallel()
	r := Revision{Number: 42, Author: "alice", Source: "cli", CreatedAt: time.Unix(1, 0), Hash: "ab", Summary: `removed "orders:write"`}
	e, err := RevisionAuditEntry(r)
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != AuditRevisionApplied || e.ObjectKind != AuditObjectRevision || e.ObjectID != "42" ||
		e.Revision != 42 || e.Actor != "alice" || e.Source != "cli" || !e.Time.Equal(r.CreatedAt) ||
		string(e.Detail) != `{"summary":"removed \"orders:write\"","hash":"ab"}` {
		t.Errorf("RevisionAuditEntry = %+v (detail %s)", e, e.Detail)
	}
	if err := CheckAuditEntry(&e); err != nil {
		t.Errorf("the revision entry does not pass CheckAuditEntry: %v", err)
	}
}
