package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// maxResponseBytes bounds what the client reads from one admin response.
const maxResponseBytes = 64 << 20

// Client calls the admin API. The zero HTTP uses http.DefaultClient.
//
//	c := &admin.Client{BaseURL: "http://127.0.0.1:9901", Token: token}
//	res, err := c.Apply(ctx, "gateway.yaml", doc, false)
//	var apiErr *admin.APIError
//	if errors.As(err, &apiErr) { ... apiErr.ConfigErrors() ... }
type Client struct {
	// BaseURL is the admin listener's URL, e.g. "http://127.0.0.1:9901".
	BaseURL string
	// Token is the admin bearer token; empty sends none.
	Token string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Ready calls GET /readyz. A not-ready gateway is not an error: the
// returned Readiness says why.
func (c *Client) Ready(ctx context.Context) (Readiness, error) {
	var out Readiness
	resp, body, err := c.roundTrip(ctx, http.MethodGet, "/readyz", nil, nil)
	if err != nil {
		return out, err
	}
	if (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable) || isProblem(resp) {
		return out, responseError(resp, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("admin API: decoding /readyz: %w", err)
	}
	return out, nil
}

// Version calls GET /admin/version.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	var out VersionInfo
	err := c.do(ctx, http.MethodGet, "/admin/version", nil, nil, &out)
	return out, err
}

// Metrics calls GET /metrics and returns the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	resp, body, err := c.roundTrip(ctx, http.MethodGet, "/metrics", nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp, body)
	}
	return body, nil
}

// Revisions lists up to limit revisions (0: the server's default of 20),
// newest first, numbered below before (0: from the newest). Documents are
// not included.
func (c *Client) Revisions(ctx context.Context, limit int, before int64) ([]store.Revision, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	var out struct {
		Revisions []RevisionJSON `json:"revisions"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/revisions", q, nil, &out); err != nil {
		return nil, err
	}
	revs := make([]store.Revision, len(out.Revisions))
	for i, r := range out.Revisions {
		revs[i] = r.revision()
	}
	return revs, nil
}

// CurrentRevision returns the revision being served, with its document.
func (c *Client) CurrentRevision(ctx context.Context) (store.Revision, error) {
	var out RevisionJSON
	err := c.do(ctx, http.MethodGet, "/admin/revisions/current", nil, nil, &out)
	return out.revision(), err
}

// Revision returns revision n with its document.
func (c *Client) Revision(ctx context.Context, n int64) (store.Revision, error) {
	var out RevisionJSON
	err := c.do(ctx, http.MethodGet, "/admin/revisions/"+strconv.FormatInt(n, 10), nil, nil, &out)
	return out.revision(), err
}

// Apply posts a YAML document as the next revision (or, with dryRun, only
// validates and diffs it). filename appears in error positions.
func (c *Client) Apply(ctx context.Context, filename string, doc []byte, dryRun bool) (ApplyResult, error) {
	q := url.Values{}
	if filename != "" {
		q.Set("filename", filename)
	}
	if dryRun {
		q.Set("dry_run", "true")
	}
	var out ApplyResultJSON
	err := c.do(ctx, http.MethodPost, "/admin/config", q, doc, &out)
	return out.result(), err
}

// Validate checks a YAML document without applying it; a nil error means valid.
func (c *Client) Validate(ctx context.Context, filename string, doc []byte) error {
	q := url.Values{}
	if filename != "" {
		q.Set("filename", filename)
	}
	return c.do(ctx, http.MethodPost, "/admin/config/validate", q, doc, nil)
}

// Rollback commits a new revision with revision n's document.
func (c *Client) Rollback(ctx context.Context, n int64) (ApplyResult, error) {
	var out ApplyResultJSON
	err := c.do(ctx, http.MethodPost, "/admin/revisions/"+strconv.FormatInt(n, 10)+"/rollback", nil, nil, &out)
	return out.result(), err
}

// CallFilter selects call-log records; zero fields do not filter.
type CallFilter struct {
	// Status is an exact status ("404") or a class ("4xx").
	Status string
	// Code is a reason code, e.g. "route.not_found".
	Code string
	// Route is a route name.
	Route string
	// RequestID selects one request.
	RequestID string
	// Consumer selects the requests of one consumer.
	Consumer string
	// Since is an RFC 3339 time or an age such as "15m" or "7d".
	Since string
	// After returns only records with a greater sequence number.
	After int64
	// Limit caps the result (server default 100, at most 10000).
	Limit int
	// Ascending orders oldest first; the default is newest first.
	Ascending bool
}

// Calls queries the call log.
func (c *Client) Calls(ctx context.Context, f CallFilter) ([]store.Call, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "code": f.Code, "route": f.Route, "request_id": f.RequestID, "since": f.Since, "consumer": f.Consumer} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatInt(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Ascending {
		q.Set("order", "asc")
	}
	var out struct {
		Calls []callJSON `json:"calls"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/calls", q, nil, &out); err != nil {
		return nil, err
	}
	calls := make([]store.Call, len(out.Calls))
	for i, v := range out.Calls {
		calls[i] = v.call()
	}
	return calls, nil
}

// Call returns the call-log record of one request.
func (c *Client) Call(ctx context.Context, requestID string) (store.Call, error) {
	var out callJSON
	err := c.do(ctx, http.MethodGet, "/admin/calls/"+url.PathEscape(requestID), nil, nil, &out)
	return out.call(), err
}

func (r RevisionJSON) revision() store.Revision {
	rev := r.Revision
	if r.Document != "" {
		rev.Document = []byte(r.Document)
	}
	return rev
}

func (r ApplyResultJSON) result() ApplyResult {
	return ApplyResult{Revision: r.Revision.revision(), Diff: r.Diff, Unchanged: r.Unchanged, DryRun: r.DryRun, Impact: r.Impact}
}

func (v callJSON) call() store.Call {
	c := v.Call
	if len(v.Trace) > 0 {
		c.Trace = []byte(v.Trace)
	}
	if len(v.Inputs) > 0 {
		c.Inputs = []byte(v.Inputs)
	}
	return c
}

// do sends a request and decodes a 2xx JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	return c.send(ctx, method, path, q, body, "application/yaml", out)
}

// doJSON sends in as a JSON body and decodes a 2xx answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("admin API: encoding the request: %w", err)
	}
	return c.send(ctx, method, path, nil, body, "application/json", out)
}

func (c *Client) send(ctx context.Context, method, path string, q url.Values, body []byte, contentType string, out any) error {
	resp, data, err := c.roundTripCT(ctx, method, path, q, body, contentType)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) roundTrip(ctx context.Context, method, path string, q url.Values, body []byte) (*http.Response, []byte, error) {
	return c.roundTripCT(ctx, method, path, q, body, "application/yaml")
}

func (c *Client) roundTripCT(ctx context.Context, method, path string, q url.Values, body []byte, contentType string) (*http.Response, []byte, error) {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("admin API: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json, "+problem.ContentType)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("admin API: reading the answer to %s %s: %w", method, path, err)
	}
	if len(data) > maxResponseBytes {
		return nil, nil, fmt.Errorf("admin API: the answer to %s %s exceeds %d bytes", method, path, maxResponseBytes)
	}
	return resp, data, nil
}
