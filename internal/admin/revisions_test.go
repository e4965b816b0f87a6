package admin_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// TestApplyLifecycle walks one gateway through dry run, apply, unchanged
// apply, change, rejected change and rollback; the steps depend on each other.
func TestApplyLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	valid, valid2 := readTestdata(t, "valid.yaml"), readTestdata(t, "valid2.yaml")

	t.Run("dry run commits nothing", func(t *testing.T) {
		r := f.do(t, "POST", "/admin/config?dry_run=true", testToken, valid)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		res, err := f.client.Apply(t.Context(), "valid.yaml", valid, true)
		if err != nil {
			t.Fatal(err)
		}
		if !res.DryRun || res.Unchanged || res.Revision.Number != 0 || !strings.Contains(res.Diff, "+ route orders") {
			t.Errorf("dry run result %+v", res)
		}
		if _, err := f.st.LatestRevision(t.Context()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a dry run created a revision (err %v)", err)
		}
	})
	t.Run("apply creates revision 1", func(t *testing.T) {
		r := f.do(t, "POST", "/admin/config?filename=valid.yaml", testToken, valid)
		if r.status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if loc := r.header.Get("Location"); loc != "/admin/revisions/1" {
			t.Errorf("Location %q", loc)
		}
		rev, err := f.client.Revision(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Author != "alice" || rev.Source != admin.SourceAdminAPI || !rev.CreatedAt.Equal(start) ||
			rev.Hash != config.Hash(valid) || string(rev.Document) != string(valid) {
			t.Errorf("revision 1 = %+v", rev)
		}
	})
	t.Run("same document is unchanged", func(t *testing.T) {
		r := f.do(t, "POST", "/admin/config", testToken, valid)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		res, err := f.client.Apply(t.Context(), "valid.yaml", valid, false)
		if err != nil || !res.Unchanged || res.Revision.Number != 1 {
			t.Errorf("Apply = %+v, %v; want unchanged revision 1", res, err)
		}
	})
	t.Run("change creates revision 2 with a diff", func(t *testing.T) {
		res, err := f.client.Apply(t.Context(), "valid2.yaml", valid2, false)
		if err != nil {
			t.Fatal(err)
		}
		want := "~ upstream orders: targets[0].url\n+ route users"
		if res.Revision.Number != 2 || res.Diff != want || res.Revision.Summary != want {
			t.Errorf("Apply = %+v; want revision 2 with diff %q", res, want)
		}
	})
	t.Run("invalid document is rejected whole with every error", func(t *testing.T) {
		_, err := f.client.Apply(t.Context(), "orders.yaml", readTestdata(t, "invalid.yaml"), false)
		var apiErr *admin.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity {
			t.Fatalf("err = %v, want a 422 APIError", err)
		}
		want := []admin.ConfigError{
			{File: "orders.yaml", Line: 6, Column: 15, Path: "routes[0].upstream", Message: `unknown upstream "ordrs" (did you mean "orders"?)`},
			{File: "orders.yaml", Line: 7, Column: 5, Path: "routes[0].timeout_ms", Message: `unknown field "timeout_ms"`},
		}
		if got := apiErr.ConfigErrors(); !reflect.DeepEqual(got, want) {
			t.Errorf("ConfigErrors() = %+v\nwant %+v", got, want)
		}
		if apiErr.Problem.Code != "admin.config_invalid" || !strings.Contains(apiErr.Problem.Detail, "2 error(s)") {
			t.Errorf("problem %+v", apiErr.Problem)
		}
		if f.ctl.Revision() != 2 {
			t.Errorf("serving revision %d after a rejected apply, want 2", f.ctl.Revision())
		}
	})
	t.Run("list newest first without documents", func(t *testing.T) {
		revs, err := f.client.Revisions(t.Context(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 2 || revs[0].Number != 2 || revs[1].Number != 1 || revs[0].Document != nil {
			t.Errorf("Revisions() = %+v", revs)
		}
		page, err := f.client.Revisions(t.Context(), 1, 2)
		if err != nil || len(page) != 1 || page[0].Number != 1 {
			t.Errorf("Revisions(1, 2) = %+v, %v", page, err)
		}
	})
	t.Run("current has the document", func(t *testing.T) {
		rev, err := f.client.CurrentRevision(t.Context())
		if err != nil || rev.Number != 2 || string(rev.Document) != string(valid2) {
			t.Errorf("CurrentRevision() = %+v, %v", rev, err)
		}
	})
	t.Run("rollback re-applies revision 1 as revision 3", func(t *testing.T) {
		r := f.do(t, "POST", "/admin/revisions/1/rollback", testToken, nil)
		if r.status != http.StatusCreated || r.header.Get("Location") != "/admin/revisions/3" {
			t.Fatalf("status %d Location %q: %s", r.status, r.header.Get("Location"), r.body)
		}
		rev, err := f.client.Revision(t.Context(), 3)
		if err != nil || rev.Source != "rollback:1" || rev.Author != "alice" || string(rev.Document) != string(valid) {
			t.Errorf("revision 3 = %+v, %v", rev, err)
		}
		res, err := f.client.Rollback(t.Context(), 1)
		if err != nil || !res.Unchanged {
			t.Errorf("second Rollback(1) = %+v, %v; want unchanged", res, err)
		}
	})
	t.Run("rollback of a missing revision is 404", func(t *testing.T) {
		_, err := f.client.Rollback(t.Context(), 42)
		if !admin.IsNotFound(err) {
			t.Errorf("Rollback(42) = %v, want 404", err)
		}
	})
}

func TestValidateEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		doc    string
		status int
	}{
		{"valid", "valid.yaml", http.StatusOK},
		{"invalid", "invalid.yaml", http.StatusUnprocessableEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "POST", "/admin/config/validate", testToken, readTestdata(t, tc.doc))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusOK && strings.TrimSpace(string(r.body)) != `{"valid":true}` {
				t.Errorf("body %s", r.body)
			}
			err := f.client.Validate(t.Context(), tc.doc, readTestdata(t, tc.doc))
			if (err == nil) != (tc.status == http.StatusOK) {
				t.Errorf("client Validate = %v", err)
			}
		})
	}
	if n := f.ctl.Revision(); n != 0 {
		t.Errorf("validation applied revision %d", n)
	}
}

func TestOwnedByFile(t *testing.T) {
	t.Parallel()
	const file = "/etc/pinpoint/gateway.yaml"
	f := newFixture(t, func(o *admin.Options) { o.ConfigFile = file })
	valid := readTestdata(t, "valid.yaml")
	tests := []struct {
		name   string
		call   func() error
		status int
	}{
		{"apply", func() error { _, err := f.client.Apply(t.Context(), "x.yaml", valid, false); return err }, http.StatusConflict},
		{"rollback", func() error { _, err := f.client.Rollback(t.Context(), 1); return err }, http.StatusConflict},
		{"dry run is allowed", func() error { _, err := f.client.Apply(t.Context(), "x.yaml", valid, true); return err }, 0},
		{"validate is allowed", func() error { return f.client.Validate(t.Context(), "x.yaml", valid) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call()
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var apiErr *admin.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Problem.Code != "admin.config_owned_by_file" {
				t.Fatalf("err = %v, want %d admin.config_owned_by_file", err, tc.status)
			}
			if !strings.Contains(apiErr.Problem.Detail, file) {
				t.Errorf("detail %q does not name the file", apiErr.Problem.Detail)
			}
		})
	}
}

func TestBadDocumentParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, path string
		status     int
	}{
		{"control character in filename", "/admin/config?filename=a%0Ab.yaml", http.StatusBadRequest},
		{"long filename", "/admin/config/validate?filename=" + strings.Repeat("a", 256), http.StatusBadRequest},
		{"revision zero", "/admin/revisions/0/rollback", http.StatusBadRequest},
		{"negative before", "/admin/revisions?before=-1", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := "POST"
			if strings.HasPrefix(tc.path, "/admin/revisions?") {
				method = "GET"
			}
			r := f.do(t, method, tc.path, testToken, readTestdata(t, "valid.yaml"))
			p := decodeProblem(t, r)
			if r.status != tc.status || p.Code != "admin.bad_request" {
				t.Errorf("got %d %s, want %d admin.bad_request", r.status, p.Code, tc.status)
			}
		})
	}
}
