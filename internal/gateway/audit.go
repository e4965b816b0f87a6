package gateway

import (
	"context"
	"errors"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// auditRejected records a rejected apply (config.rejected): who tried,
// from where, how many errors and the first one, and the document's hash;
// never the document, which may hold secrets. Dry runs are not applies
// and are not recorded.
func (g *Gateway) auditRejected(ctx context.Context, req admin.ApplyRequest, err error) {
	count, first := 1, err.Error()
	var errs config.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		count, first = len(errs), errs[0].Error()
	}
	// The first error is redacted by the recorder like every detail; a
	// configuration error quotes positions and names, not values.
	_ = g.o.Audit.Record(ctx, store.AuditEntry{
		Actor: req.Author, Action: store.AuditConfigRejected, Source: req.Source,
		ObjectKind: store.AuditObjectConfigSource, ObjectID: req.Filename, Revision: g.Revision(),
		Detail: audit.Detail(map[string]any{"errors": count, "first_error": first, "hash": config.Hash(req.Document)}),
	})
}
