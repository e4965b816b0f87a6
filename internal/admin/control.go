package admin

import (
	"context"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// Control is what the admin API needs from the running gateway. The gateway
// implements it; tests may use a real gateway.
type Control interface {
	// Validate decodes and validates a document without applying it. A
	// config.Errors error lists every problem with file, line, column and path.
	Validate(ctx context.Context, filename string, doc []byte) error
	// Apply validates, compiles and (unless req.DryRun) commits a new revision
	// and swaps it in. A config.Errors error means nothing changed.
	// *OwnedByFileError is returned when a config file owns the configuration.
	Apply(ctx context.Context, req ApplyRequest) (ApplyResult, error)
	// Rollback commits a new revision whose document is revision n's.
	Rollback(ctx context.Context, n int64, author string) (ApplyResult, error)
	// Revision is the number of the revision being served (0: none yet).
	Revision() int64
	// Ready returns nil when the gateway serves a revision and its listeners are up.
	Ready() error
}

// ApplyRequest asks for a document to become the next revision.
type ApplyRequest struct {
	// Filename is used in error positions ("orders.yaml:12:5").
	Filename string
	// Document is the YAML configuration.
	Document []byte
	// Author and Source are recorded in the revision.
	Author, Source string
	// DryRun validates and diffs without committing.
	DryRun bool
	// Impact bounds the change-impact replay of a dry run (see Impact).
	Impact ImpactWindow
}

// ApplyResult reports an apply.
type ApplyResult struct {
	// Revision is the committed revision (for a dry run: number 0, Summary set).
	Revision store.Revision `json:"revision"`
	// Diff is the human-readable diff against the running revision.
	Diff string `json:"diff"`
	// Unchanged is true when the document equals the running revision's; no
	// revision is created then.
	Unchanged bool `json:"unchanged"`
	// DryRun echoes the request.
	DryRun bool `json:"dry_run"`
	// Impact is a dry run's change impact on recent requests; nil when
	// not computed (not a dry run, no call log, or impact=false).
	Impact *Impact `json:"impact,omitempty"`
}

// OwnedByFileError refuses admin-API writes while a config file owns the
// configuration (pinpoint serve --config FILE).
type OwnedByFileError struct {
	// File is the owning file's path.
	File string
}

func (e *OwnedByFileError) Error() string {
	return "configuration is owned by the file " + e.File + "; change that file instead"
}
