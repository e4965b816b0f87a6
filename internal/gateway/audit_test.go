package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// A rejected apply is recorded once as config.rejected with its error
// count and first error, never the document; a rejected dry run is not.
func TestRejectedApplyIsAudited(t *testing.T) {
	t.Parallel()
	be := backend(t, "app")
	h := newHarness(t, simpleConfig(be.URL), func(o *Options) { o.Audit = &audit.Recorder{Store: o.Store} })
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: "alice", Source: audit.SourceAdminAPI, RequestID: "req-1", Revision: 1})
	bad := simpleConfig(be.URL) + "  - name: app\n    targets: []\n    bogus: s3cr3t-in-the-document\n"
	_, err := h.g.Apply(ctx, admin.ApplyRequest{Filename: "bad.yaml", Document: []byte(bad), Author: "alice", Source: audit.SourceAdminAPI})
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) < 2 {
		t.Fatalf("want several errors, got %v", err)
	}
	if _, err := h.g.Apply(ctx, admin.ApplyRequest{Filename: "bad.yaml", Document: []byte(bad), Author: "alice", DryRun: true}); err == nil {
		t.Fatal("dry run of a bad document passed")
	}
	es, err := h.st.QueryAudit(context.Background(), store.AuditQuery{Action: store.AuditConfigRejected})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d config.rejected entries, want 1: %+v", len(es), es)
	}
	e := es[0]
	if e.Actor != "alice" || e.Source != audit.SourceAdminAPI || e.RequestID != "req-1" || e.Revision != 1 ||
		e.ObjectKind != store.AuditObjectConfigSource || e.ObjectID != "bad.yaml" {
		t.Fatalf("entry %+v", e)
	}
	var d struct {
		Errors     int    `json:"errors"`
		FirstError string `json:"first_error"`
		Hash       string `json:"hash"`
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d.Errors != len(errs) || d.FirstError != errs[0].Error() || d.Hash != config.Hash([]byte(bad)) {
		t.Fatalf("detail %s; want %d errors, first %q", e.Detail, len(errs), errs[0].Error())
	}
	if strings.Contains(string(e.Detail), "s3cr3t") {
		t.Fatalf("the entry holds the document: %s", e.Detail)
	}
}
