package admin_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// wholeKeyRE matches a whole API key as the fixtures issue it (env "live").
var wholeKeyRE = regexp.MustCompile(`pp_live_[a-z2-7]{12}_[A-Za-z0-9]{32}`)

// logBuffer collects the handler's log lines; the server writes them from
// its own goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// idFixture is the admin API with the identity endpoints, over the same
// real SQLite store as fixture, logging into a buffer and remembering every
// answer for the key-disclosure checks.
type idFixture struct {
	*fixture
	svc *identity.Service
	log *logBuffer

	mu        sync.Mutex
	responses []response
}

// newIdentityFixture serves the identity endpoints; declared (may be nil)
// is what the configuration declares.
func newIdentityFixture(t *testing.T, declared *identity.Declared, configure ...func(*admin.Options)) *idFixture {
	t.Helper()
	f := &idFixture{log: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	withIdentities := func(o *admin.Options) {
		f.svc = &identity.Service{
			Store:    o.Store,
			Live:     identity.NewRegistry(),
			Declared: func() *identity.Declared { return declared },
			Env:      func() string { return "live" },
			Log:      logger,
		}
		o.Identities, o.Logger = f.svc, logger
	}
	f.fixture = newFixture(t, append([]func(*admin.Options){withIdentities}, configure...)...)
	// The client's answers are recorded too.
	f.client.HTTP = &http.Client{Transport: recordingTransport{f: f, next: f.srv.Client().Transport}}
	return f
}

// recordingTransport records the answers the fixture's client receives.
type recordingTransport struct {
	f    *idFixture
	next http.RoundTripper
}

func (rt recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.f.record(response{status: resp.StatusCode, header: resp.Header, body: body})
	return resp, nil
}

func (f *idFixture) record(r response) {
	f.mu.Lock()
	f.responses = append(f.responses, r)
	f.mu.Unlock()
}

// call sends body as alice (a string as is, anything else as JSON) and
// records the answer.
func (f *idFixture) call(t *testing.T, method, path string, body any) response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	r := f.do(t, method, path, testToken, b)
	f.record(r)
	return r
}

// checkKeysShownOnce fails unless every whole key in the recorded answers
// appears exactly once (in the answer that issued it), its secret part and
// hash nowhere else, and none of it in the log.
func (f *idFixture) checkKeysShownOnce(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var all bytes.Buffer
	for _, r := range f.responses {
		all.Write(r.body)
		all.WriteByte('\n')
	}
	keys := wholeKeyRE.FindAllString(all.String(), -1)
	if len(keys) == 0 {
		t.Fatal("no key was issued; the check would be vacuous")
	}
	logs := f.log.String()
	if !strings.Contains(logs, "api key created") {
		t.Fatalf("the log buffer holds no key events; the check would be vacuous:\n%s", logs)
	}
	for _, k := range keys {
		secret := k[strings.LastIndexByte(k, '_')+1:]
		sum := sha256.Sum256([]byte(k))
		hash := hex.EncodeToString(sum[:])
		if n := strings.Count(all.String(), secret); n != 1 {
			t.Errorf("the secret of %s… appears %d times in the answers, want once", k[:20], n)
		}
		if strings.Contains(all.String(), hash) {
			t.Errorf("the hash of %s… appears in an answer", k[:20])
		}
		if strings.Contains(logs, secret) || strings.Contains(logs, hash) {
			t.Errorf("the log holds the secret or hash of %s…:\n%s", k[:20], logs)
		}
	}
}

// decodeAs checks r's status and decodes its JSON body.
func decodeAs[T any](t *testing.T, r response, status int) T {
	t.Helper()
	var v T
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %T: %v; body %s", v, err, r.body)
	}
	return v
}

// wantProblem checks that r is the problem code with status.
func wantProblem(t *testing.T, r response, status int, code string) problem.Problem {
	t.Helper()
	p := decodeProblem(t, r)
	if r.status != status || p.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", r.status, p.Code, p.Detail, status, code)
	}
	return p
}

func TestTenantLifecycle(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)

	t.Run("create", func(t *testing.T) {
		got := decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants", admin.TenantInput{ID: "acme", Name: "Acme Corp"}), 201)
		if got.ID != "acme" || got.Name != "Acme Corp" || got.Status != identity.StatusActive || got.Source != identity.SourceStore ||
			got.CreatedAt.IsZero() {
			t.Errorf("created %+v", got)
		}
		if f.svc.Live.Tenant("acme") == nil {
			t.Error("the tenant is stored but not live")
		}
	})
	t.Run("duplicate id is a conflict", func(t *testing.T) {
		checkGolden(t, "tenant_exists", f.call(t, "POST", "/admin/tenants", `{"id":"acme","name":"Another"}`))
	})
	t.Run("bad id", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "POST", "/admin/tenants", `{"id":"acme corp"}`), 400, "admin.bad_request")
		if !strings.Contains(p.Detail, `tenant id "acme corp"`) {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("list and get", func(t *testing.T) {
		if _, err := f.client.PutTenant(t.Context(), admin.TenantInput{ID: "globex"}, true); err != nil {
			t.Fatal(err)
		}
		list := decodeAs[struct{ Tenants []identity.TenantRecord }](t, f.call(t, "GET", "/admin/tenants", nil), 200)
		if len(list.Tenants) != 2 || list.Tenants[0].ID != "acme" || list.Tenants[1].ID != "globex" {
			t.Errorf("tenants %+v", list.Tenants)
		}
		got := decodeAs[identity.TenantRecord](t, f.call(t, "GET", "/admin/tenants/acme", nil), 200)
		if got.Name != "Acme Corp" || got.Source != identity.SourceStore {
			t.Errorf("GET acme = %+v", got)
		}
	})
	t.Run("get unknown", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "GET", "/admin/tenants/nope", nil), 404, "admin.not_found")
		if p.Detail != "Tenant nope was not found." {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("update", func(t *testing.T) {
		got := decodeAs[identity.TenantRecord](t, f.call(t, "PUT", "/admin/tenants/acme", `{"name":"Acme Inc"}`), 200)
		if got.ID != "acme" || got.Name != "Acme Inc" {
			t.Errorf("updated %+v", got)
		}
		wantProblem(t, f.call(t, "PUT", "/admin/tenants/acme", `{"id":"globex","name":"x"}`), 400, "admin.bad_request")
		wantProblem(t, f.call(t, "PUT", "/admin/tenants/nope", `{"name":"x"}`), 404, "admin.not_found")
	})
	t.Run("suspend with reason and category", func(t *testing.T) {
		got := decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants/acme/suspend",
			admin.StatusInput{Reason: "invoice 2026-11 unpaid", Category: "billing"}), 200)
		if got.Status != identity.StatusSuspended || got.SuspendedReason != "invoice 2026-11 unpaid" || got.SuspendedCategory != "billing" {
			t.Errorf("suspended %+v", got)
		}
		if live := f.svc.Live.Tenant("acme"); live == nil || !live.Suspended() || live.Suspension.Category != "billing" {
			t.Errorf("live tenant %+v", live)
		}
		stored := decodeAs[identity.TenantRecord](t, f.call(t, "GET", "/admin/tenants/acme", nil), 200)
		if stored.SuspendedReason != "invoice 2026-11 unpaid" || stored.Name != "Acme Inc" {
			t.Errorf("GET after suspend = %+v", stored)
		}
	})
	t.Run("suspend without category is administrative", func(t *testing.T) {
		got := decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants/globex/suspend", `{"reason":"audit"}`), 200)
		if got.SuspendedCategory != "administrative" {
			t.Errorf("category %q", got.SuspendedCategory)
		}
	})
	t.Run("suspend with a bad category", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "POST", "/admin/tenants/acme/suspend", `{"reason":"x","category":"vacation"}`), 400, "admin.bad_request")
		if !strings.Contains(p.Detail, `category "vacation"`) {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("suspend unknown", func(t *testing.T) {
		wantProblem(t, f.call(t, "POST", "/admin/tenants/nope/suspend", `{"reason":"x"}`), 404, "admin.not_found")
	})
	t.Run("activate clears the suspension", func(t *testing.T) {
		got := decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants/acme/activate", nil), 200)
		if got.Status != identity.StatusActive || got.SuspendedReason != "" || got.SuspendedCategory != "" {
			t.Errorf("activated %+v", got)
		}
		if live := f.svc.Live.Tenant("acme"); live == nil || live.Suspended() {
			t.Errorf("live tenant %+v", live)
		}
	})
	t.Run("delete with consumers is a conflict", func(t *testing.T) {
		decodeAs[identity.ConsumerRecord](t, f.call(t, "POST", "/admin/consumers", `{"id":"orders-app","tenant":"acme"}`), 201)
		checkGolden(t, "tenant_has_consumers", f.call(t, "DELETE", "/admin/tenants/acme", nil))
	})
	t.Run("delete", func(t *testing.T) {
		if r := f.call(t, "DELETE", "/admin/consumers/orders-app", nil); r.status != 204 {
			t.Fatalf("DELETE consumer: %d %s", r.status, r.body)
		}
		r := f.call(t, "DELETE", "/admin/tenants/acme", nil)
		if r.status != 204 || len(r.body) != 0 {
			t.Fatalf("DELETE = %d %q, want 204 and no body", r.status, r.body)
		}
		wantProblem(t, f.call(t, "GET", "/admin/tenants/acme", nil), 404, "admin.not_found")
		wantProblem(t, f.call(t, "DELETE", "/admin/tenants/acme", nil), 404, "admin.not_found")
		if f.svc.Live.Tenant("acme") != nil {
			t.Error("the deleted tenant is still live")
		}
	})
}

func TestConsumerLifecycle(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	if _, err := f.client.PutTenant(t.Context(), admin.TenantInput{ID: "acme", Name: "Acme Corp"}, true); err != nil {
		t.Fatal(err)
	}

	t.Run("create", func(t *testing.T) {
		in := admin.ConsumerInput{ID: "orders-app", Name: "Orders App", Tenant: "acme", Groups: []string{"partners"},
			Metadata: map[string]string{"user_id": "42"}}
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "POST", "/admin/consumers", in), 201)
		if got.ID != "orders-app" || got.Name != "Orders App" || got.TenantID != "acme" || len(got.Groups) != 1 ||
			got.Groups[0] != "partners" || got.Metadata["user_id"] != "42" || got.Status != identity.StatusActive ||
			got.Source != identity.SourceStore {
			t.Errorf("created %+v", got)
		}
		if f.svc.Live.Consumer("orders-app") == nil {
			t.Error("the consumer is stored but not live")
		}
		if _, err := f.client.PutConsumer(t.Context(), admin.ConsumerInput{ID: "ci"}, true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("duplicate id is a conflict", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "POST", "/admin/consumers", `{"id":"orders-app"}`), 409, "admin.conflict")
		if p.Detail != "Consumer orders-app already exists" {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("unknown tenant", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "POST", "/admin/consumers", `{"id":"x","tenant":"nope"}`), 400, "admin.bad_request")
		if p.Detail != `tenant "nope" does not exist` {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("list, filter and get", func(t *testing.T) {
		all := decodeAs[struct{ Consumers []identity.ConsumerRecord }](t, f.call(t, "GET", "/admin/consumers", nil), 200)
		if len(all.Consumers) != 2 || all.Consumers[0].ID != "ci" || all.Consumers[1].ID != "orders-app" {
			t.Errorf("consumers %+v", all.Consumers)
		}
		acme := decodeAs[struct{ Consumers []identity.ConsumerRecord }](t, f.call(t, "GET", "/admin/consumers?tenant=acme", nil), 200)
		if len(acme.Consumers) != 1 || acme.Consumers[0].ID != "orders-app" {
			t.Errorf("consumers of acme %+v", acme.Consumers)
		}
		none := f.call(t, "GET", "/admin/consumers?tenant=globex", nil)
		if none.status != 200 || strings.TrimSpace(string(none.body)) != `{"consumers":[]}` {
			t.Errorf("empty list = %d %s", none.status, none.body)
		}
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "GET", "/admin/consumers/orders-app", nil), 200)
		if got.Name != "Orders App" || got.Metadata["user_id"] != "42" {
			t.Errorf("GET = %+v", got)
		}
	})
	t.Run("get unknown", func(t *testing.T) {
		checkGolden(t, "consumer_not_found", f.call(t, "GET", "/admin/consumers/nope", nil))
	})
	t.Run("update replaces every field", func(t *testing.T) {
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "PUT", "/admin/consumers/orders-app",
			`{"name":"Orders","groups":["partners","beta"]}`), 200)
		if got.Name != "Orders" || got.TenantID != "" || len(got.Groups) != 2 || len(got.Metadata) != 0 {
			t.Errorf("updated %+v", got)
		}
		wantProblem(t, f.call(t, "PUT", "/admin/consumers/orders-app", `{"id":"ci"}`), 400, "admin.bad_request")
		wantProblem(t, f.call(t, "PUT", "/admin/consumers/nope", `{"name":"x"}`), 404, "admin.not_found")
	})
	t.Run("suspend with reason and category", func(t *testing.T) {
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "POST", "/admin/consumers/orders-app/suspend",
			admin.StatusInput{Reason: "scraping, ticket 881", Category: "abuse"}), 200)
		if got.Status != identity.StatusSuspended || got.SuspendedReason != "scraping, ticket 881" ||
			got.SuspendedCategory != "abuse" || got.Name != "Orders" {
			t.Errorf("suspended %+v", got)
		}
		if live := f.svc.Live.Consumer("orders-app"); live == nil || !live.Suspended() || live.Suspension.Category != "abuse" {
			t.Errorf("live consumer %+v", live)
		}
	})
	t.Run("suspend with a bad category", func(t *testing.T) {
		checkGolden(t, "bad_category", f.call(t, "POST", "/admin/consumers/ci/suspend", `{"reason":"x","category":"vacation"}`))
		if got := decodeAs[identity.ConsumerRecord](t, f.call(t, "GET", "/admin/consumers/ci", nil), 200); got.Status != identity.StatusActive {
			t.Errorf("a refused suspension changed the consumer: %+v", got)
		}
	})
	t.Run("suspend without category is administrative", func(t *testing.T) {
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "POST", "/admin/consumers/ci/suspend", `{"reason":"x"}`), 200)
		if got.SuspendedCategory != "administrative" {
			t.Errorf("category %q", got.SuspendedCategory)
		}
	})
	t.Run("activate clears the suspension", func(t *testing.T) {
		got := decodeAs[identity.ConsumerRecord](t, f.call(t, "POST", "/admin/consumers/orders-app/activate", nil), 200)
		if got.Status != identity.StatusActive || got.SuspendedReason != "" || got.SuspendedCategory != "" {
			t.Errorf("activated %+v", got)
		}
		if live := f.svc.Live.Consumer("orders-app"); live == nil || live.Suspended() {
			t.Errorf("live consumer %+v", live)
		}
		wantProblem(t, f.call(t, "POST", "/admin/consumers/nope/activate", nil), 404, "admin.not_found")
	})
	t.Run("delete takes the keys along", func(t *testing.T) {
		issued := decodeAs[admin.IssuedKey](t, f.call(t, "POST", "/admin/keys", `{"consumer":"orders-app"}`), 201)
		r := f.call(t, "DELETE", "/admin/consumers/orders-app", nil)
		if r.status != 204 {
			t.Fatalf("DELETE = %d %s", r.status, r.body)
		}
		wantProblem(t, f.call(t, "GET", "/admin/consumers/orders-app", nil), 404, "admin.not_found")
		wantProblem(t, f.call(t, "GET", "/admin/keys/"+issued.APIKey.ID, nil), 404, "admin.not_found")
		wantProblem(t, f.call(t, "DELETE", "/admin/consumers/orders-app", nil), 404, "admin.not_found")
		if f.svc.Live.Consumer("orders-app") != nil || f.svc.Live.Key(issued.APIKey.ID) != nil {
			t.Error("the deleted consumer or its key is still live")
		}
	})
	f.checkKeysShownOnce(t)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	for _, id := range []string{"orders-app", "ci"} {
		if _, err := f.client.PutConsumer(t.Context(), admin.ConsumerInput{ID: id}, true); err != nil {
			t.Fatal(err)
		}
	}
	var first admin.IssuedKey

	t.Run("create shows the whole key once", func(t *testing.T) {
		before := time.Now()
		r := f.call(t, "POST", "/admin/keys", `{"consumer":"orders-app","name":"ci","scopes":["orders:read","orders:write"],"expires_in":"720h"}`)
		after := time.Now()
		first = decodeAs[admin.IssuedKey](t, r, 201)
		k := first.APIKey
		if !wholeKeyRE.MatchString(first.Key) || !strings.HasPrefix(first.Key, identity.Prefix(k.Env, k.ID)+"_") {
			t.Errorf("key %q does not match its record %s", first.Key, identity.Prefix(k.Env, k.ID))
		}
		if n := strings.Count(string(r.body), first.Key); n != 1 {
			t.Errorf("the body holds the key %d times, want once: %s", n, r.body)
		}
		if k.Env != "live" || k.ConsumerID != "orders-app" || k.Name != "ci" || strings.Join(k.Scopes, " ") != "orders:read orders:write" ||
			k.Source != identity.SourceStore || k.CreatedAt.IsZero() || !k.RevokedAt.IsZero() || first.Replaced != nil {
			t.Errorf("record %+v", k)
		}
		if k.ExpiresAt.Before(before.Add(720*time.Hour)) || k.ExpiresAt.After(after.Add(720*time.Hour)) {
			t.Errorf("expires_at %s, want 720h from now", k.ExpiresAt)
		}
		var raw struct {
			APIKey map[string]json.RawMessage `json:"api_key"`
		}
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatal(err)
		}
		for field := range raw.APIKey {
			if strings.Contains(strings.ToLower(field), "hash") {
				t.Errorf("api_key has the field %q: %s", field, r.body)
			}
		}
		if live := f.svc.Live.Key(k.ID); live == nil || live.Hash != identity.HashKey(first.Key) {
			t.Error("the key is not live with the hash of the whole key")
		}
	})
	t.Run("create refusals", func(t *testing.T) {
		for _, tc := range []struct{ name, body, detail string }{
			{"unknown consumer", `{"consumer":"nope"}`, `consumer "nope" does not exist`},
			{"no consumer", `{}`, `consumer "" does not exist`},
			{"bad expires_in", `{"consumer":"ci","expires_in":"forever"}`, "expires_in: want a positive duration such as 720h"},
			{"negative expires_in", `{"consumer":"ci","expires_in":"-1h"}`, "expires_in: want a positive duration such as 720h"},
			{"both expiries", `{"consumer":"ci","expires_in":"1h","expires_at":"2999-01-01T00:00:00Z"}`, "set expires_at or expires_in, not both"},
			{"past expiry", `{"consumer":"ci","expires_at":"2001-01-01T00:00:00Z"}`, "expires_at 2001-01-01T00:00:00Z is not in the future"},
			{"empty scope", `{"consumer":"ci","scopes":[""]}`, `scope "" is empty or longer than 200 characters`},
			{"not JSON", `consumer=ci`, "the body is not the expected JSON object: "},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := wantProblem(t, f.call(t, "POST", "/admin/keys", tc.body), 400, "admin.bad_request")
				if !strings.HasPrefix(p.Detail, tc.detail) {
					t.Errorf("detail %q, want %q", p.Detail, tc.detail)
				}
			})
		}
	})

	// Three keys of orders-app and one of ci. ordersKeys are in id order;
	// revoked and spare are the two orders-app keys other than first.
	var ordersKeys []string
	var revoked, spare string
	t.Run("list with a consumer filter and paging", func(t *testing.T) {
		ordersKeys = append(ordersKeys, first.APIKey.ID)
		for _, c := range []string{"orders-app", "orders-app", "ci"} {
			out, err := f.client.CreateKey(t.Context(), admin.KeyInput{Consumer: c, Scopes: []string{"orders:read"}})
			if err != nil {
				t.Fatal(err)
			}
			if c == "orders-app" {
				ordersKeys = append(ordersKeys, out.APIKey.ID)
			}
		}
		slices.Sort(ordersKeys) // the store orders by id, bytewise
		others := slices.DeleteFunc(slices.Clone(ordersKeys), func(id string) bool { return id == first.APIKey.ID })
		revoked, spare = others[0], others[1]
		ids := func(path string) []string {
			t.Helper()
			list := decodeAs[struct{ Keys []identity.KeyRecord }](t, f.call(t, "GET", path, nil), 200)
			var out []string
			for _, k := range list.Keys {
				if k.Source != identity.SourceStore || k.CreatedAt.IsZero() {
					t.Errorf("listed %+v", k)
				}
				out = append(out, k.ID)
			}
			return out
		}
		if got := ids("/admin/keys"); len(got) != 4 {
			t.Errorf("all keys %v, want 4", got)
		}
		if got := ids("/admin/keys?consumer=orders-app"); strings.Join(got, ",") != strings.Join(ordersKeys, ",") {
			t.Errorf("keys of orders-app %v, want %v in id order", got, ordersKeys)
		}
		page1 := ids("/admin/keys?consumer=orders-app&limit=2")
		page2 := ids("/admin/keys?consumer=orders-app&limit=2&after=" + url.QueryEscape(page1[len(page1)-1]))
		if strings.Join(page1, ",") != strings.Join(ordersKeys[:2], ",") || strings.Join(page2, ",") != ordersKeys[2] {
			t.Errorf("pages %v %v, want %v", page1, page2, ordersKeys)
		}
		if got := ids("/admin/keys?after=" + ordersKeys[2] + "&consumer=orders-app"); len(got) != 0 {
			t.Errorf("page after the last key %v", got)
		}
		if got, err := f.client.Keys(t.Context(), "ci", "", 0); err != nil || len(got) != 1 || got[0].ConsumerID != "ci" {
			t.Errorf("client.Keys(ci) = %+v, %v", got, err)
		}
		for _, q := range []string{"limit=0", "limit=10001", "limit=many"} {
			wantProblem(t, f.call(t, "GET", "/admin/keys?"+q, nil), 400, "admin.bad_request")
		}
	})
	t.Run("get", func(t *testing.T) {
		got := decodeAs[identity.KeyRecord](t, f.call(t, "GET", "/admin/keys/"+first.APIKey.ID, nil), 200)
		if got.ID != first.APIKey.ID || got.ConsumerID != "orders-app" || got.Name != "ci" || len(got.Scopes) != 2 ||
			!got.ExpiresAt.Equal(first.APIKey.ExpiresAt) || got.Source != identity.SourceStore {
			t.Errorf("GET = %+v, issued %+v", got, first.APIKey)
		}
		p := wantProblem(t, f.call(t, "GET", "/admin/keys/nope0000nope", nil), 404, "admin.not_found")
		if p.Detail != "Key nope0000nope was not found." {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("revoke keeps the reason", func(t *testing.T) {
		before := time.Now()
		got := decodeAs[identity.KeyRecord](t, f.call(t, "POST", "/admin/keys/"+revoked+"/revoke", `{"reason":"leaked in CI logs"}`), 200)
		if got.RevokedAt.Before(before.Add(-time.Second)) || got.RevokedReason != "leaked in CI logs" {
			t.Errorf("revoked %+v", got)
		}
		stored := decodeAs[identity.KeyRecord](t, f.call(t, "GET", "/admin/keys/"+revoked, nil), 200)
		if !stored.RevokedAt.Equal(got.RevokedAt) || stored.RevokedReason != "leaked in CI logs" {
			t.Errorf("GET after revoke = %+v", stored)
		}
		if live := f.svc.Live.Key(revoked); live == nil || live.RevokedAt() == 0 {
			t.Error("the revocation is not live")
		}
	})
	t.Run("second revoke is a conflict", func(t *testing.T) {
		r := f.call(t, "POST", "/admin/keys/"+revoked+"/revoke", `{"reason":"again"}`)
		p := wantProblem(t, r, 409, "admin.conflict")
		if p.Detail != "Key "+revoked+" is already revoked" {
			t.Errorf("detail %q", p.Detail)
		}
		stored := decodeAs[identity.KeyRecord](t, f.call(t, "GET", "/admin/keys/"+revoked, nil), 200)
		if stored.RevokedReason != "leaked in CI logs" {
			t.Errorf("the second revocation replaced the reason: %q", stored.RevokedReason)
		}
		wantProblem(t, f.call(t, "POST", "/admin/keys/nope0000nope/revoke", `{"reason":"x"}`), 404, "admin.not_found")
	})
	t.Run("rotate with a grace period", func(t *testing.T) {
		id := first.APIKey.ID
		before := time.Now()
		r := f.call(t, "POST", "/admin/keys/"+id+"/rotate", `{"grace":"48h"}`)
		after := time.Now()
		out := decodeAs[admin.IssuedKey](t, r, 201)
		k, old := out.APIKey, out.Replaced
		if !wholeKeyRE.MatchString(out.Key) || strings.Count(string(r.body), out.Key) != 1 || k.ID == id ||
			!strings.HasPrefix(out.Key, identity.Prefix(k.Env, k.ID)+"_") {
			t.Errorf("replacement key %q, record %+v", out.Key, k)
		}
		if k.ConsumerID != "orders-app" || k.Name != "ci" || strings.Join(k.Scopes, " ") != "orders:read orders:write" {
			t.Errorf("the replacement does not keep consumer, name and scopes: %+v", k)
		}
		if old == nil || old.ID != id || old.ReplacedBy != k.ID {
			t.Fatalf("replaced %+v, want %s replaced by %s", old, id, k.ID)
		}
		if old.ExpiresAt.Before(before.Add(48*time.Hour)) || old.ExpiresAt.After(after.Add(48*time.Hour)) {
			t.Errorf("replaced key expires at %s, want 48h from now", old.ExpiresAt)
		}
		stored := decodeAs[identity.KeyRecord](t, f.call(t, "GET", "/admin/keys/"+id, nil), 200)
		if !stored.ExpiresAt.Equal(old.ExpiresAt) || stored.ReplacedBy != k.ID {
			t.Errorf("GET of the rotated key = %+v", stored)
		}
		if live := f.svc.Live.Key(k.ID); live == nil || live.Hash != identity.HashKey(out.Key) {
			t.Error("the replacement is not live")
		}
	})
	t.Run("a rotated key is not rotated again", func(t *testing.T) {
		p := wantProblem(t, f.call(t, "POST", "/admin/keys/"+first.APIKey.ID+"/rotate", `{"grace":"1h"}`), 400, "admin.bad_request")
		if !strings.Contains(p.Detail, "was already rotated to") {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("rotate refusals", func(t *testing.T) {
		for _, tc := range []struct{ name, id, body string }{
			{"revoked key", revoked, `{}`},
			{"bad grace", spare, `{"grace":"a while"}`},
			{"negative grace", spare, `{"grace":"-1h"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, f.call(t, "POST", "/admin/keys/"+tc.id+"/rotate", tc.body), 400, "admin.bad_request")
			})
		}
		wantProblem(t, f.call(t, "POST", "/admin/keys/nope0000nope/rotate", `{}`), 404, "admin.not_found")
	})
	t.Run("rotate with no grace ends the old key now", func(t *testing.T) {
		out, err := f.client.RotateKey(t.Context(), spare, "0s")
		if err != nil {
			t.Fatal(err)
		}
		if out.Replaced == nil || out.Replaced.ExpiresAt.After(time.Now()) {
			t.Errorf("replaced %+v, want expired", out.Replaced)
		}
	})
	t.Run("unknown key golden", func(t *testing.T) {
		checkGolden(t, "key_not_found", f.call(t, "POST", "/admin/keys/nope0000nope/rotate", `{"grace":"1h"}`))
	})
	t.Run("no answer after creation and no log line holds a key", func(t *testing.T) {
		f.call(t, "GET", "/admin/keys", nil)
		f.checkKeysShownOnce(t)
		logs := f.log.String()
		if !strings.Contains(logs, "key="+identity.Prefix("live", first.APIKey.ID)) {
			t.Errorf("the log does not name keys by their prefix:\n%s", logs)
		}
	})
}

// declaredIdentities is a configuration declaring tenant declared-corp with
// consumer declared-app and its key decl0key0001, and consumer partner-app
// of the stored tenant stored-corp.
func declaredIdentities() *identity.Declared {
	key := identity.NewKeyRecord("live", "decl0key0001")
	key.ConsumerID = "declared-app"
	key.Hash = identity.HashKey("pp_live_decl0key0001_declaredDeclaredDeclaredDecl0000")
	return &identity.Declared{
		Tenants: map[string]*identity.Tenant{
			"declared-corp": {ID: "declared-corp", Name: "Declared Corp", Status: identity.StatusActive, Source: identity.SourceConfig},
		},
		Consumers: map[string]*identity.Consumer{
			"declared-app": {ID: "declared-app", Name: "Declared App", TenantID: "declared-corp", Groups: []string{"partners"},
				Status: identity.StatusActive, Source: identity.SourceConfig},
			"partner-app": {ID: "partner-app", TenantID: "stored-corp", Status: identity.StatusSuspended,
				Suspension: identity.Suspension{Reason: "contract ended", Category: "billing"}, Source: identity.SourceConfig},
		},
		Keys: map[string]*identity.Key{"decl0key0001": key},
	}
}

func TestDeclaredObjectsAreReadOnly(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, declaredIdentities())
	if _, err := f.client.PutTenant(t.Context(), admin.TenantInput{ID: "stored-corp"}, true); err != nil {
		t.Fatal(err)
	}
	writes := []struct{ method, path, body, what string }{
		{"POST", "/admin/consumers", `{"id":"declared-app","name":"Mine now"}`, "Consumer declared-app"},
		{"PUT", "/admin/consumers/declared-app", `{"name":"Mine now"}`, "Consumer declared-app"},
		{"POST", "/admin/consumers/declared-app/suspend", `{"reason":"x","category":"abuse"}`, "Consumer declared-app"},
		{"POST", "/admin/consumers/declared-app/activate", ``, "Consumer declared-app"},
		{"DELETE", "/admin/consumers/declared-app", ``, "Consumer declared-app"},
		{"POST", "/admin/tenants", `{"id":"declared-corp"}`, "Tenant declared-corp"},
		{"PUT", "/admin/tenants/declared-corp", `{"name":"x"}`, "Tenant declared-corp"},
		{"POST", "/admin/tenants/declared-corp/suspend", `{"reason":"x"}`, "Tenant declared-corp"},
		{"POST", "/admin/tenants/declared-corp/activate", ``, "Tenant declared-corp"},
		{"DELETE", "/admin/tenants/declared-corp", ``, "Tenant declared-corp"},
		{"POST", "/admin/keys/decl0key0001/revoke", `{"reason":"x"}`, "Key decl0key0001"},
		{"POST", "/admin/keys/decl0key0001/rotate", `{"grace":"1h"}`, "Key decl0key0001"},
	}
	for _, w := range writes {
		t.Run(w.method+" "+w.path, func(t *testing.T) {
			t.Parallel()
			var body any
			if w.body != "" {
				body = w.body
			}
			p := wantProblem(t, f.call(t, w.method, w.path, body), 409, "admin.declared_in_config")
			want := w.what + " is declared in the configuration (the running revision); change it there."
			if p.Detail != want {
				t.Errorf("detail %q, want %q", p.Detail, want)
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, "declared_in_config", f.call(t, "PUT", "/admin/consumers/declared-app", `{"name":"Mine now"}`))
	})
	t.Run("golden with a configuration file", func(t *testing.T) {
		t.Parallel()
		g := newIdentityFixture(t, declaredIdentities(), func(o *admin.Options) { o.ConfigFile = "/etc/pinpoint/gateway.yaml" })
		checkGolden(t, "declared_in_config_file", g.call(t, "DELETE", "/admin/consumers/declared-app", nil))
	})
	t.Run("a stored tenant with a declared consumer is not deleted", func(t *testing.T) {
		t.Parallel()
		p := wantProblem(t, f.call(t, "DELETE", "/admin/tenants/stored-corp", nil), 409, "admin.conflict")
		if p.Detail != "Tenant stored-corp still has the declared consumer partner-app" {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("reads show the source", func(t *testing.T) {
		t.Parallel()
		c := decodeAs[identity.ConsumerRecord](t, f.call(t, "GET", "/admin/consumers/declared-app", nil), 200)
		if c.Source != identity.SourceConfig || c.Name != "Declared App" || c.TenantID != "declared-corp" {
			t.Errorf("declared consumer %+v", c)
		}
		p := decodeAs[identity.ConsumerRecord](t, f.call(t, "GET", "/admin/consumers/partner-app", nil), 200)
		if p.Status != identity.StatusSuspended || p.SuspendedCategory != "billing" || p.SuspendedReason != "contract ended" {
			t.Errorf("declared suspended consumer %+v", p)
		}
		tenants := decodeAs[struct{ Tenants []identity.TenantRecord }](t, f.call(t, "GET", "/admin/tenants", nil), 200)
		if len(tenants.Tenants) != 2 || tenants.Tenants[0].ID != "declared-corp" || tenants.Tenants[0].Source != identity.SourceConfig ||
			tenants.Tenants[1].ID != "stored-corp" || tenants.Tenants[1].Source != identity.SourceStore {
			t.Errorf("tenants %+v", tenants.Tenants)
		}
		k := decodeAs[identity.KeyRecord](t, f.call(t, "GET", "/admin/keys/decl0key0001", nil), 200)
		if k.Source != identity.SourceConfig || k.ConsumerID != "declared-app" || k.Env != "live" {
			t.Errorf("declared key %+v", k)
		}
	})
	t.Run("keys can be issued for a declared consumer", func(t *testing.T) {
		t.Parallel()
		out := decodeAs[admin.IssuedKey](t, f.call(t, "POST", "/admin/keys", `{"consumer":"declared-app","scopes":["orders:read"]}`), 201)
		if out.APIKey.ConsumerID != "declared-app" || out.APIKey.Source != identity.SourceStore {
			t.Errorf("issued %+v", out.APIKey)
		}
		list := decodeAs[struct{ Keys []identity.KeyRecord }](t, f.call(t, "GET", "/admin/keys?consumer=declared-app", nil), 200)
		if len(list.Keys) != 2 || list.Keys[0].ID != "decl0key0001" || list.Keys[0].Source != identity.SourceConfig ||
			list.Keys[1].ID != out.APIKey.ID {
			t.Errorf("keys of declared-app %+v: want the declared key first, then the stored one", list.Keys)
		}
		// Declared keys are on the first page only.
		after := decodeAs[struct{ Keys []identity.KeyRecord }](t, f.call(t, "GET", "/admin/keys?after=0", nil), 200)
		for _, k := range after.Keys {
			if k.Source == identity.SourceConfig {
				t.Errorf("a later page repeats the declared key %s", k.ID)
			}
		}
		// The stored key of a declared consumer is the store's to revoke.
		if _, err := f.client.RevokeKey(t.Context(), out.APIKey.ID, "test"); err != nil {
			t.Error(err)
		}
	})
}

func TestIdentityBodiesRejectUnknownFields(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	if _, err := f.client.PutTenant(t.Context(), admin.TenantInput{ID: "acme"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutConsumer(t.Context(), admin.ConsumerInput{ID: "orders-app"}, true); err != nil {
		t.Fatal(err)
	}
	key, err := f.client.CreateKey(t.Context(), admin.KeyInput{Consumer: "orders-app"})
	if err != nil {
		t.Fatal(err)
	}
	id := key.APIKey.ID
	tests := []struct{ method, path, body string }{
		{"POST", "/admin/tenants", `{"id":"globex","owner":"x"}`},
		{"PUT", "/admin/tenants/acme", `{"name":"x","owner":"x"}`},
		{"POST", "/admin/tenants/acme/suspend", `{"reason":"x","notify":true}`},
		{"POST", "/admin/consumers", `{"id":"ci","tenant_id":"acme"}`},
		{"PUT", "/admin/consumers/orders-app", `{"name":"x","group":"partners"}`},
		{"POST", "/admin/consumers/orders-app/suspend", `{"reason":"x","categry":"abuse"}`},
		{"POST", "/admin/keys", `{"consumer":"orders-app","scope":"orders:read"}`},
		{"POST", "/admin/keys/" + id + "/revoke", `{"reason":"x","force":true}`},
		{"POST", "/admin/keys/" + id + "/rotate", `{"grace_period":"1h"}`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			p := wantProblem(t, f.call(t, tc.method, tc.path, tc.body), 400, "admin.bad_request")
			if !strings.Contains(p.Detail, "unknown field") {
				t.Errorf("detail %q does not name the unknown field", p.Detail)
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, "unknown_field", f.call(t, "POST", "/admin/keys", `{"consumer":"orders-app","scope":"orders:read"}`))
	})
	t.Run("nothing was written", func(t *testing.T) {
		t.Parallel()
		k, err := f.client.Key(t.Context(), id)
		if err != nil || !k.RevokedAt.IsZero() || k.ReplacedBy != "" {
			t.Errorf("key %+v, %v", k, err)
		}
		c, err := f.client.Consumer(t.Context(), "orders-app")
		if err != nil || c.Status != identity.StatusActive {
			t.Errorf("consumer %+v, %v", c, err)
		}
	})
}

// identityEndpoints lists every identity endpoint, with bodies that would
// succeed if the request got through.
var identityEndpoints = []struct{ method, path, body string }{
	{"GET", "/admin/tenants", ""},
	{"POST", "/admin/tenants", `{"id":"intruder"}`},
	{"GET", "/admin/tenants/acme", ""},
	{"PUT", "/admin/tenants/acme", `{"name":"Pwned"}`},
	{"DELETE", "/admin/tenants/acme", ""},
	{"POST", "/admin/tenants/acme/suspend", `{"reason":"x"}`},
	{"POST", "/admin/tenants/acme/activate", ""},
	{"GET", "/admin/consumers", ""},
	{"POST", "/admin/consumers", `{"id":"intruder"}`},
	{"GET", "/admin/consumers/orders-app", ""},
	{"PUT", "/admin/consumers/orders-app", `{"name":"Pwned"}`},
	{"DELETE", "/admin/consumers/orders-app", ""},
	{"POST", "/admin/consumers/orders-app/suspend", `{"reason":"x"}`},
	{"POST", "/admin/consumers/orders-app/activate", ""},
	{"GET", "/admin/keys", ""},
	{"POST", "/admin/keys", `{"consumer":"orders-app"}`},
	{"GET", "/admin/keys/{key}", ""},
	{"POST", "/admin/keys/{key}/revoke", `{"reason":"x"}`},
	{"POST", "/admin/keys/{key}/rotate", `{"grace":"0s"}`},
	// Wrong methods are refused before the 405 too.
	{"PATCH", "/admin/tenants/acme", `{}`},
	{"DELETE", "/admin/keys/{key}", ""},
}

func TestIdentityEndpointsRequireTheAdminToken(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	if _, err := f.client.PutTenant(t.Context(), admin.TenantInput{ID: "acme", Name: "Acme"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutConsumer(t.Context(), admin.ConsumerInput{ID: "orders-app", Tenant: "acme"}, true); err != nil {
		t.Fatal(err)
	}
	key, err := f.client.CreateKey(t.Context(), admin.KeyInput{Consumer: "orders-app"})
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "ppadm_this-token-is-not-stored-anywhere-00"
	t.Run("refused", func(t *testing.T) {
		for _, ep := range identityEndpoints {
			path := strings.ReplaceAll(ep.path, "{key}", key.APIKey.ID)
			for _, tc := range []struct{ name, token, challenge string }{
				{"no token", "", `Bearer realm="pinpoint-admin"`},
				{"wrong token", wrong, `Bearer realm="pinpoint-admin", error="invalid_token"`},
			} {
				t.Run(ep.method+" "+ep.path+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					var body []byte
					if ep.body != "" {
						body = []byte(ep.body)
					}
					r := f.do(t, ep.method, path, tc.token, body)
					wantProblem(t, r, 401, "admin.unauthorized")
					if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
						t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
					}
					if strings.Contains(string(r.body), "acme") || strings.Contains(string(r.body), "orders-app") {
						t.Errorf("a refused request discloses data: %s", r.body)
					}
				})
			}
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		tenants, err := f.client.Tenants(t.Context())
		if err != nil || len(tenants) != 1 || tenants[0].Name != "Acme" || tenants[0].Status != identity.StatusActive {
			t.Errorf("tenants %+v, %v", tenants, err)
		}
		consumers, err := f.client.Consumers(t.Context(), "")
		if err != nil || len(consumers) != 1 || consumers[0].Name != "" || consumers[0].Status != identity.StatusActive {
			t.Errorf("consumers %+v, %v", consumers, err)
		}
		keys, err := f.client.Keys(t.Context(), "", "", 0)
		if err != nil || len(keys) != 1 || !keys[0].RevokedAt.IsZero() || keys[0].ReplacedBy != "" {
			t.Errorf("keys %+v, %v", keys, err)
		}
	})
	t.Run("the token passes", func(t *testing.T) {
		r := f.do(t, "GET", "/admin/keys/"+key.APIKey.ID, testToken, nil)
		if r.status != http.StatusOK {
			t.Errorf("GET with the token = %d %s", r.status, r.body)
		}
	})
}

func TestIdentityEndpointsAbsentWithoutService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, path := range []string{"/admin/tenants", "/admin/consumers/x", "/admin/keys"} {
		if p := decodeProblem(t, f.do(t, "GET", path, testToken, nil)); p.Code != "admin.not_found" {
			t.Errorf("GET %s without Identities: %s", path, p.Code)
		}
	}
}

// Regression: deleting a consumer with more keys than one store page
// (10000) left the rest live, so they would authenticate again for a
// consumer later created with the same id.
func TestDeleteConsumerRemovesEveryLiveKey(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("stores 10001 keys")
	}
	f := newIdentityFixture(t, nil)
	ctx := t.Context()
	if _, err := f.client.PutConsumer(ctx, admin.ConsumerInput{ID: "bulk"}, true); err != nil {
		t.Fatal(err)
	}
	const n = 10001
	for i := range n {
		whole, id := identity.GenerateKey("live")
		sum := identity.HashKey(whole)
		if _, err := f.st.CreateAPIKey(ctx, store.APIKey{ID: id, Env: "live", ConsumerID: "bulk", Hash: hex.EncodeToString(sum[:])}); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if err := f.svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.svc.Live.Len(); got != n {
		t.Fatalf("%d live keys, want %d", got, n)
	}
	if r := f.call(t, "DELETE", "/admin/consumers/bulk", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.status, r.body)
	}
	if got := f.svc.Live.Len(); got != 0 {
		t.Errorf("%d keys of the deleted consumer are still live", got)
	}
}

func TestIdentityBodies(t *testing.T) {
	t.Parallel()
	f := newIdentityFixture(t, nil)
	wantProblem(t, f.call(t, "POST", "/admin/tenants", `{"id":"a"} {"id":"b"}`), 400, "admin.bad_request")
	if got := f.call(t, "GET", "/admin/tenants/b", nil); got.status != 404 {
		t.Errorf("the second object of a body was applied: %d", got.status)
	}
	decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants", `{"id":"a"}`), 201)
	// suspend takes optional fields only: an empty body is {}.
	got := decodeAs[identity.TenantRecord](t, f.call(t, "POST", "/admin/tenants/a/suspend", ""), 200)
	if got.Status != "suspended" || got.SuspendedCategory != "administrative" {
		t.Errorf("suspend with an empty body = %+v", got)
	}
}
