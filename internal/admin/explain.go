package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/explain"
)

// explainRequest serves GET /admin/requests/{id}/explain: why the request
// with that id was answered the way it was (see the explain package). An
// id the call log does not hold is 404 admin.not_found.
func (h *handler) explainRequest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e := &explain.Explainer{Calls: h.Store, Revisions: h.Store}
	if h.Identities != nil {
		e.Identities = h.Identities
	}
	x, err := e.Explain(r.Context(), id)
	switch {
	case errors.Is(err, explain.ErrNotFound):
		notFound(w, r, "Request "+strconv.Quote(truncate(id, 100)))
	case err != nil:
		h.storeFailure(w, r, "explain request", err)
	default:
		writeJSON(w, http.StatusOK, x)
	}
}
