package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/identity"
)

// newIdentityCLIFixture is newCLIFixture with the identity endpoints
// served, over the same store. The configuration declares tenant
// declared-corp, its consumer billing-svc and that consumer's key
// decl0key0001.
func newIdentityCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	f := newCLIFixture(t)
	key := identity.NewKeyRecord("live", "decl0key0001")
	key.ConsumerID = "billing-svc"
	key.Hash = identity.HashKey("pp_live_decl0key0001_declaredDeclaredDeclaredDecl0000")
	declared := &identity.Declared{
		Tenants: map[string]*identity.Tenant{
			"declared-corp": {ID: "declared-corp", Name: "Declared Corp", Status: identity.StatusActive, Source: identity.SourceConfig},
		},
		Consumers: map[string]*identity.Consumer{
			"billing-svc": {ID: "billing-svc", Name: "Billing", TenantID: "declared-corp", Groups: []string{"internal"},
				Status: identity.StatusActive, Source: identity.SourceConfig},
		},
		Keys: map[string]*identity.Key{"decl0key0001": key},
	}
	svc := &identity.Service{
		Store: f.st, Live: identity.NewRegistry(),
		Declared: func() *identity.Declared { return declared },
		Env:      func() string { return "live" },
	}
	// The fixture's own server (without identities) stays up unused.
	f.srv = httptest.NewServer(admin.NewHandler(admin.Options{Control: f.ctl, Store: f.st, Version: "test", Identities: svc}))
	t.Cleanup(f.srv.Close)
	return f
}

var (
	wholeKeyRE  = regexp.MustCompile(`pp_live_([a-z2-7]{12})_[A-Za-z0-9]{32}`)
	keyPrefixRE = regexp.MustCompile(`pp_live_([a-z2-7]{12})\b`)
	// Only this century's times are the real clock's; a zero time stays visible.
	wallTimeRE = regexp.MustCompile(`20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
)

// keyNormalizer replaces random key ids, whole keys and wall-clock times
// with stable placeholders of the same width (tables stay aligned). Ids are
// numbered in the order the test first sees them, so a replacement and the
// key it replaces keep their names across commands.
type keyNormalizer struct{ ids map[string]string }

func newKeyNormalizer() *keyNormalizer { return &keyNormalizer{ids: map[string]string{}} }

func (n *keyNormalizer) id(id string) string {
	ph, ok := n.ids[id]
	if !ok {
		ph = fmt.Sprintf("<key-id-%03d>", len(n.ids)+1)
		n.ids[id] = ph
	}
	return ph
}

func (n *keyNormalizer) normalize(s string) string {
	s = wholeKeyRE.ReplaceAllStringFunc(s, func(k string) string {
		return "pp_live_" + n.id(wholeKeyRE.FindStringSubmatch(k)[1]) + "_<secret>"
	})
	s = keyPrefixRE.ReplaceAllStringFunc(s, func(p string) string { return "pp_live_" + n.id(p[len("pp_live_"):]) })
	for id, ph := range n.ids { // bare ids in JSON and messages
		s = strings.ReplaceAll(s, id, ph)
	}
	return wallTimeRE.ReplaceAllString(s, "YYYY-MM-DDTHH:MM:SSZ")
}

// sortRows sorts a table's rows under its header: stored keys are listed
// in the order of their random ids.
func sortRows(table string) string {
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	slices.Sort(lines[1:])
	return strings.Join(lines, "\n") + "\n"
}

// issuedKey returns the one whole key in out, failing unless there is
// exactly one and it is announced as shown only this time.
func issuedKey(t *testing.T, out string) string {
	t.Helper()
	keys := wholeKeyRE.FindAllString(out, -1)
	if len(keys) != 1 {
		t.Fatalf("output holds %d whole keys, want 1:\n%s", len(keys), out)
	}
	if !strings.Contains(out, "\n"+keys[0]+"\n\nThis is the only time the key is shown") {
		t.Errorf("the key is not printed on its own line before the notice:\n%s", out)
	}
	return keys[0]
}

// TestKeysCommands issues, lists, revokes and rotates keys through the
// CLI; the steps build on each other.
func TestKeysCommands(t *testing.T) {
	t.Parallel()
	f := newIdentityCLIFixture(t)
	n := newKeyNormalizer()
	for _, args := range [][]string{
		{"tenants", "create", "acme"},
		{"consumers", "create", "orders-app", "--tenant", "acme"},
		{"consumers", "create", "ci"},
	} {
		wantCode(t, f.run(t, args...), exitOK)
	}
	var keys []string // whole keys, in issue order
	var first, second string

	t.Run("create prints the key once", func(t *testing.T) {
		r := f.run(t, "keys", "create", "--consumer", "orders-app", "--scope", "orders:read", "--scope", "orders:write")
		wantCode(t, r, exitOK)
		key := issuedKey(t, r.stdout)
		keys = append(keys, key)
		first = wholeKeyRE.FindStringSubmatch(key)[1]
		checkGolden(t, "keys_create", n.normalize(r.stdout))
		if r.stderr != "" {
			t.Errorf("stderr %q", r.stderr)
		}
		stored, err := f.st.APIKey(t.Context(), first)
		sum := sha256.Sum256([]byte(key))
		if err != nil || stored.Hash != hex.EncodeToString(sum[:]) || stored.ConsumerID != "orders-app" {
			t.Errorf("stored %+v, %v: want the hash of the printed key", stored, err)
		}
	})
	t.Run("create with an expiry and a name", func(t *testing.T) {
		r := f.run(t, "keys", "create", "--consumer", "ci", "--name", "deploy", "--scope", "deploy:write",
			"--expires-at", "2099-01-31T00:00:00Z")
		wantCode(t, r, exitOK)
		keys = append(keys, issuedKey(t, r.stdout))
		second = wholeKeyRE.FindStringSubmatch(keys[1])[1]
		checkGolden(t, "keys_create_expiry", n.normalize(r.stdout))
	})
	t.Run("create for a declared consumer", func(t *testing.T) {
		r := f.run(t, "keys", "create", "--consumer", "billing-svc", "--expires-in", "2160h")
		wantCode(t, r, exitOK)
		keys = append(keys, issuedKey(t, r.stdout))
		if !strings.Contains(r.stdout, "  expires  ") {
			t.Errorf("no expiry printed:\n%s", r.stdout)
		}
	})
	t.Run("create refusals", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"keys", "create", "--scope", "a"}, exitUsage, "error: --consumer is required\nRun 'pinpoint keys create --help' for usage.\n"},
			{[]string{"keys", "create", "--consumer", "ci", "--expires-at", "tomorrow"}, exitUsage, `--expires-at "tomorrow": want RFC 3339`},
			{[]string{"keys", "create", "--consumer", "nope"}, exitFailure,
				"error: Bad admin request: consumer \"nope\" does not exist (code admin.bad_request, request <request-id>)\n"},
		} {
			r := f.run(t, tc.args...)
			wantCode(t, r, tc.code)
			if got := requestIDRE.ReplaceAllString(r.stderr, "request <request-id>"); !strings.Contains(got, tc.want) {
				t.Errorf("%v: stderr %q, want %q", tc.args, got, tc.want)
			}
			if wholeKeyRE.MatchString(r.stdout) {
				t.Errorf("%v printed a key: %s", tc.args, r.stdout)
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		r := f.run(t, "keys")
		wantCode(t, r, exitOK)
		checkGolden(t, "keys_table", sortRows(n.normalize(r.stdout)))
		r = f.run(t, "keys", "--consumer", "orders-app")
		wantCode(t, r, exitOK)
		if strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "pp_live_"+first) {
			t.Errorf("keys --consumer orders-app:\n%s", r.stdout)
		}
		// Paging past the greatest stored id: declared keys come on the
		// first page only, so nothing but the header is left.
		last := slices.Max([]string{first, second, wholeKeyRE.FindStringSubmatch(keys[2])[1]})
		r = f.run(t, "keys", "--after", last)
		wantCode(t, r, exitOK)
		if strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("keys --after %s:\n%s", last, r.stdout)
		}
	})
	t.Run("revoke requires a reason", func(t *testing.T) {
		r := f.run(t, "keys", "revoke", first)
		wantCode(t, r, exitUsage)
		want := "error: --reason is required (it is kept for operators and shown by pinpoint explain)\n" +
			"Run 'pinpoint keys revoke --help' for usage.\n"
		if r.stderr != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
		if k, err := f.st.APIKey(t.Context(), first); err != nil || !k.RevokedAt.IsZero() {
			t.Errorf("key %+v, %v: want it untouched", k, err)
		}
	})
	t.Run("revoke by prefix", func(t *testing.T) {
		r := f.run(t, "keys", "revoke", "pp_live_"+second, "--reason", "leaked in CI logs")
		wantCode(t, r, exitOK)
		if want := "key pp_live_" + second + " revoked\n"; r.stdout != want {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		if k, err := f.st.APIKey(t.Context(), second); err != nil || k.RevokedReason != "leaked in CI logs" {
			t.Errorf("key %+v, %v", k, err)
		}
	})
	t.Run("revoke again", func(t *testing.T) {
		r := f.run(t, "keys", "revoke", second, "--reason", "again")
		wantCode(t, r, exitFailure)
		checkGolden(t, "keys_revoke_again", n.normalize(r.stderr))
	})
	t.Run("rotate", func(t *testing.T) {
		before := time.Now()
		r := f.run(t, "keys", "rotate", first, "--grace", "48h")
		wantCode(t, r, exitOK)
		keys = append(keys, issuedKey(t, r.stdout))
		checkGolden(t, "keys_rotate", n.normalize(r.stdout))
		old, err := f.st.APIKey(t.Context(), first)
		if err != nil {
			t.Fatal(err)
		}
		if d := old.ExpiresAt.Sub(before); d < 48*time.Hour || d > 48*time.Hour+time.Minute {
			t.Errorf("the old key expires at %s, want 48h from now", old.ExpiresAt)
		}
		if old.ReplacedBy != wholeKeyRE.FindStringSubmatch(keys[3])[1] {
			t.Errorf("the old key is replaced by %q", old.ReplacedBy)
		}
	})
	t.Run("list shows the states", func(t *testing.T) {
		r := f.run(t, "keys")
		wantCode(t, r, exitOK)
		checkGolden(t, "keys_table_states", sortRows(n.normalize(r.stdout)))
	})
	t.Run("rotate as JSON", func(t *testing.T) {
		r := f.run(t, "keys", "rotate", wholeKeyRE.FindStringSubmatch(keys[2])[1], "-o", "json")
		wantCode(t, r, exitOK)
		var out admin.IssuedKey
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if !wholeKeyRE.MatchString(out.Key) || out.Replaced == nil || out.Replaced.ReplacedBy != out.APIKey.ID ||
			out.APIKey.ConsumerID != "billing-svc" || strings.Count(r.stdout, out.Key) != 1 {
			t.Errorf("JSON rotation:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, "hash") {
			t.Errorf("the JSON has a hash:\n%s", r.stdout)
		}
		keys = append(keys, out.Key)
	})
	t.Run("rotate refusals", func(t *testing.T) {
		r := f.run(t, "keys", "rotate", "decl0key0001")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, "Key decl0key0001 is declared in the configuration (the running revision); change it there.") {
			t.Errorf("stderr %q", r.stderr)
		}
		r = f.run(t, "keys", "rotate", second)
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stderr, "is revoked; issue a new key instead") {
			t.Errorf("stderr %q", r.stderr)
		}
	})
	t.Run("no later output shows a key", func(t *testing.T) {
		var all strings.Builder
		for _, args := range [][]string{
			{"keys"}, {"keys", "-o", "json"}, {"keys", "show", first}, {"keys", "show", "pp_live_" + second},
			{"keys", "show", "decl0key0001"},
		} {
			r := f.run(t, args...)
			wantCode(t, r, exitOK)
			all.WriteString(r.stdout + r.stderr)
		}
		for _, k := range keys {
			if strings.Contains(all.String(), k[len(k)-32:]) {
				t.Errorf("a later command printed the secret of %s", k[:20])
			}
		}
		if strings.Contains(all.String(), "hash") {
			t.Errorf("output names a hash:\n%s", all.String())
		}
	})
	t.Run("show", func(t *testing.T) {
		r := f.run(t, "keys", "show", second)
		wantCode(t, r, exitOK)
		checkGolden(t, "keys_show", n.normalize(r.stdout))
	})
}

// TestConsumersCommands creates, suspends, shows and lists consumers; the
// steps build on each other.
func TestConsumersCommands(t *testing.T) {
	t.Parallel()
	f := newIdentityCLIFixture(t)
	n := newKeyNormalizer()
	wantCode(t, f.run(t, "tenants", "create", "acme", "--name", "Acme Corp"), exitOK)
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		golden string // compares stdout, or stderr on failure
	}{
		{name: "create", args: []string{"consumers", "create", "orders-app", "--name", "Orders App", "--tenant", "acme",
			"--group", "partners", "--meta", "user_id=42", "--meta", "plan=gold"}, stdout: "consumer orders-app created\n"},
		{name: "create another", args: []string{"consumers", "create", "ci", "--group", "deploy,internal"}, stdout: "consumer ci created\n"},
		{name: "create duplicate", args: []string{"consumers", "create", "ci"}, code: exitFailure, golden: "consumers_create_duplicate"},
		{name: "suspend", args: []string{"consumers", "suspend", "orders-app", "--category", "abuse", "--reason", "scraping, ticket 881"},
			stdout: "consumer orders-app suspended (abuse)\n"},
		{name: "suspend default category", args: []string{"consumers", "suspend", "ci", "--reason", "audit"},
			stdout: "consumer ci suspended (administrative)\n"},
		{name: "suspend bad category", args: []string{"consumers", "suspend", "ci", "--category", "vacation"},
			code: exitFailure, golden: "consumers_suspend_bad_category"},
		{name: "show", args: []string{"consumers", "show", "orders-app"}, golden: "consumers_show"},
		{name: "list", args: []string{"consumers"}, golden: "consumers_table"},
		{name: "list by tenant", args: []string{"consumers", "--tenant", "declared-corp"}, golden: "consumers_table_tenant"},
		{name: "activate", args: []string{"consumers", "activate", "ci"}, stdout: "consumer ci is active\n"},
		{name: "update declared", args: []string{"consumers", "update", "billing-svc", "--name", "Mine"},
			code: exitFailure, golden: "consumers_update_declared"},
		{name: "show unknown", args: []string{"consumers", "show", "nope"}, code: exitFailure, golden: "consumers_show_unknown"},
		{name: "delete", args: []string{"consumers", "delete", "ci"}, stdout: "consumer ci and its keys deleted\n"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := f.run(t, s.args...)
			wantCode(t, r, s.code)
			switch {
			case s.golden != "" && s.code == exitOK:
				checkGolden(t, s.golden, n.normalize(r.stdout))
			case s.golden != "":
				checkGolden(t, s.golden, n.normalize(r.stderr))
			case r.stdout != s.stdout:
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, s.stdout)
			}
		})
	}
	t.Run("bad metadata is a usage error", func(t *testing.T) {
		r := f.run(t, "consumers", "create", "x", "--meta", "novalue")
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, `--meta "novalue": want NAME=VALUE`) {
			t.Errorf("stderr %q", r.stderr)
		}
	})
	t.Run("show as JSON keeps the reason", func(t *testing.T) {
		r := f.run(t, "consumers", "show", "orders-app", "-o", "json")
		wantCode(t, r, exitOK)
		var c identity.ConsumerRecord
		if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if c.Status != identity.StatusSuspended || c.SuspendedReason != "scraping, ticket 881" || c.Source != identity.SourceStore {
			t.Errorf("consumer %+v", c)
		}
	})
}

func TestTenantsCommands(t *testing.T) {
	t.Parallel()
	f := newIdentityCLIFixture(t)
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		golden string
	}{
		{name: "create", args: []string{"tenants", "create", "acme", "--name", "Acme Corp"}, stdout: "tenant acme created\n"},
		{name: "create without name", args: []string{"tenants", "create", "globex"}, stdout: "tenant globex created\n"},
		{name: "suspend", args: []string{"tenants", "suspend", "globex", "--category", "billing", "--reason", "invoice 2026-11 unpaid"},
			stdout: "tenant globex suspended (billing)\n"},
		{name: "list", args: []string{"tenants"}, golden: "tenants_table"},
		{name: "create duplicate", args: []string{"tenants", "create", "acme"}, code: exitFailure, golden: "tenants_create_duplicate"},
		{name: "suspend declared", args: []string{"tenants", "suspend", "declared-corp", "--reason", "x"}, code: exitFailure,
			golden: "tenants_suspend_declared"},
		{name: "activate", args: []string{"tenants", "activate", "globex"}, stdout: "tenant globex is active\n"},
		{name: "delete", args: []string{"tenants", "delete", "globex"}, stdout: "tenant globex deleted\n"},
		{name: "delete again", args: []string{"tenants", "delete", "globex"}, code: exitFailure, golden: "tenants_delete_unknown"},
	}
	n := newKeyNormalizer()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := f.run(t, s.args...)
			wantCode(t, r, s.code)
			switch {
			case s.golden != "" && s.code == exitOK:
				checkGolden(t, s.golden, n.normalize(r.stdout))
			case s.golden != "":
				checkGolden(t, s.golden, n.normalize(r.stderr))
			case r.stdout != s.stdout:
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, s.stdout)
			}
		})
	}
	t.Run("list as JSON", func(t *testing.T) {
		r := f.run(t, "tenants", "-o", "json")
		wantCode(t, r, exitOK)
		var out struct{ Tenants []identity.TenantRecord }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if len(out.Tenants) != 2 || out.Tenants[0].ID != "acme" || out.Tenants[0].Source != identity.SourceStore ||
			out.Tenants[1].ID != "declared-corp" || out.Tenants[1].Source != identity.SourceConfig {
			t.Errorf("tenants JSON:\n%s", r.stdout)
		}
		checkGolden(t, "tenants_json", n.normalize(r.stdout))
	})
	t.Run("problem as JSON", func(t *testing.T) {
		r := f.run(t, "tenants", "show", "nope", "-o", "json")
		wantCode(t, r, exitFailure)
		if !strings.Contains(r.stdout, `"code": "admin.not_found"`) || !strings.Contains(r.stdout, `"detail": "Tenant nope was not found."`) {
			t.Errorf("stdout:\n%s", r.stdout)
		}
	})
}
