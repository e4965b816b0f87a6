package admin

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// MaxDocumentBytes caps a configuration document posted to the admin API (4 MiB).
const MaxDocumentBytes = 4 << 20

// DefaultFilename names a posted document in error positions when the
// request has no filename parameter.
const DefaultFilename = "admin-api.yaml"

// SourceAdminAPI is the Source of revisions applied through the admin API.
const SourceAdminAPI = "admin-api"

// Revision listing bounds.
const (
	defaultRevisionLimit = 20
	maxRevisionLimit     = 1000
)

// RevisionJSON is a store.Revision with its document as text rather than
// the base64 encoding/json gives a []byte.
type RevisionJSON struct {
	store.Revision
	Document string `json:"document,omitempty"`
}

// RevisionView converts a revision for JSON output (the admin API and the CLI).
func RevisionView(r store.Revision) RevisionJSON {
	return RevisionJSON{Revision: r, Document: string(r.Document)}
}

// ApplyResultJSON is ApplyResult on the wire; the document is left out
// because the caller just sent it.
type ApplyResultJSON struct {
	Revision  RevisionJSON `json:"revision"`
	Diff      string       `json:"diff"`
	Unchanged bool         `json:"unchanged"`
	DryRun    bool         `json:"dry_run"`
	Impact    *Impact      `json:"impact,omitempty"`
}

// ApplyResultView converts an apply result for JSON output.
func ApplyResultView(res ApplyResult) ApplyResultJSON {
	rev := res.Revision
	rev.Document = nil
	return ApplyResultJSON{Revision: RevisionView(rev), Diff: res.Diff, Unchanged: res.Unchanged, DryRun: res.DryRun, Impact: res.Impact}
}

// revisionList is the body of GET /admin/revisions.
type revisionList struct {
	Revisions []RevisionJSON `json:"revisions"`
}

func (h *handler) listRevisions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), defaultRevisionLimit, 1, maxRevisionLimit)
	if err != nil {
		badRequest(w, r, "limit: "+err.Error())
		return
	}
	before, err := intParam(q.Get("before"), 0, 0, 1<<62)
	if err != nil {
		badRequest(w, r, "before: "+err.Error())
		return
	}
	revs, err := h.Store.ListRevisions(r.Context(), int(limit), before)
	if err != nil {
		h.storeFailure(w, r, "list revisions", err)
		return
	}
	out := revisionList{Revisions: make([]RevisionJSON, len(revs))}
	for i, rev := range revs {
		out.Revisions[i] = RevisionView(rev)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) currentRevision(w http.ResponseWriter, r *http.Request) {
	n := h.Control.Revision()
	if n == 0 {
		notFound(w, r, "The current revision (none has been applied yet)")
		return
	}
	h.writeRevision(w, r, n)
}

func (h *handler) getRevision(w http.ResponseWriter, r *http.Request) {
	n, ok := revisionNumber(w, r)
	if !ok {
		return
	}
	h.writeRevision(w, r, n)
}

func (h *handler) writeRevision(w http.ResponseWriter, r *http.Request, n int64) {
	rev, err := h.Store.Revision(r.Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r, "Revision "+strconv.FormatInt(n, 10))
		return
	}
	if err != nil {
		h.storeFailure(w, r, "read revision", err)
		return
	}
	writeJSON(w, http.StatusOK, RevisionView(rev))
}

func (h *handler) applyConfig(w http.ResponseWriter, r *http.Request) {
	dryRun, err := boolParam(r.URL.Query().Get("dry_run"))
	if err != nil {
		badRequest(w, r, "dry_run: "+err.Error())
		return
	}
	if h.ConfigFile != "" && !dryRun {
		ownedByFile(w, r, h.ConfigFile)
		return
	}
	var window ImpactWindow
	if dryRun {
		if window, err = parseImpactWindow(r.URL.Query().Get); err != nil {
			badRequest(w, r, err.Error())
			return
		}
	}
	filename, doc, ok := readDocument(w, r)
	if !ok {
		return
	}
	res, err := h.Control.Apply(r.Context(), ApplyRequest{
		Filename: filename,
		Document: doc,
		Author:   tokenName(r.Context()),
		Source:   SourceAdminAPI,
		DryRun:   dryRun,
		Impact:   window,
	})
	if err != nil {
		h.controlFailure(w, r, "apply", err)
		return
	}
	h.writeApplied(w, r, res, "configuration applied")
}

func (h *handler) validateConfig(w http.ResponseWriter, r *http.Request) {
	filename, doc, ok := readDocument(w, r)
	if !ok {
		return
	}
	if err := h.Control.Validate(r.Context(), filename, doc); err != nil {
		h.controlFailure(w, r, "validate", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request) {
	n, ok := revisionNumber(w, r)
	if !ok {
		return
	}
	if h.ConfigFile != "" {
		ownedByFile(w, r, h.ConfigFile)
		return
	}
	// Look the revision up first so that a missing one is a clean 404
	// whatever error Control.Rollback would wrap.
	if _, err := h.Store.Revision(r.Context(), n); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			notFound(w, r, "Revision "+strconv.FormatInt(n, 10))
			return
		}
		h.storeFailure(w, r, "read revision", err)
		return
	}
	res, err := h.Control.Rollback(r.Context(), n, tokenName(r.Context()))
	if err != nil {
		h.controlFailure(w, r, "rollback", err)
		return
	}
	h.writeApplied(w, r, res, "configuration rolled back")
}

// writeApplied answers 201 with a Location when a revision was created and
// 200 for dry runs and unchanged documents.
func (h *handler) writeApplied(w http.ResponseWriter, r *http.Request, res ApplyResult, msg string) {
	if res.DryRun || res.Unchanged || res.Revision.Number == 0 {
		writeJSON(w, http.StatusOK, ApplyResultView(res))
		return
	}
	h.log.InfoContext(r.Context(), "admin: "+msg,
		"revision", res.Revision.Number, "author", res.Revision.Author,
		"source", res.Revision.Source, "request_id", requestID(r.Context()))
	w.Header().Set("Location", "/admin/revisions/"+strconv.FormatInt(res.Revision.Number, 10))
	writeJSON(w, http.StatusCreated, ApplyResultView(res))
}

// readDocument reads the YAML body (at most MaxDocumentBytes) and the
// filename parameter, answering the request itself when either is bad.
func readDocument(w http.ResponseWriter, r *http.Request) (filename string, doc []byte, ok bool) {
	filename = r.URL.Query().Get("filename")
	if filename == "" {
		filename = DefaultFilename
	}
	if len(filename) > 255 || strings.ContainsFunc(filename, unicode.IsControl) {
		badRequest(w, r, "filename must be at most 255 printable characters")
		return "", nil, false
	}
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxDocumentBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, r, "request.body_too_large", map[string]string{"limit": strconv.Itoa(MaxDocumentBytes)})
			return "", nil, false
		}
		badRequest(w, r, "the request body could not be read")
		return "", nil, false
	}
	return filename, doc, true
}

// revisionNumber parses the {n} path segment.
func revisionNumber(w http.ResponseWriter, r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		badRequest(w, r, "the revision number must be a positive integer")
		return 0, false
	}
	return n, true
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(s string, def, lo, hi int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n < lo || n > hi {
		return 0, errors.New("must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10))
	}
	return n, nil
}

// boolParam parses an optional boolean query parameter ("true", "false", "1", "0").
func boolParam(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errors.New("must be true or false")
	}
	return b, nil
}
