package admin_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

var tokenPattern = regexp.MustCompile(`^ppadm_[A-Za-z0-9_-]{43}$`)

func openStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "pinpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestEnsureTokenGenerates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	token, created, err := admin.EnsureToken(t.Context(), st, nil, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !created || !tokenPattern.MatchString(token) {
		t.Fatalf("EnsureToken = %q, %v; want a new ppadm_ token", token, created)
	}
	path := filepath.Join(dir, admin.TokenFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("token file mode %o, want 600", mode)
	}
	if b, _ := os.ReadFile(path); string(b) != token+"\n" {
		t.Errorf("token file holds %q", b)
	}
	tok, err := st.AdminTokenByHash(t.Context(), admin.HashToken(token))
	if err != nil || tok.Name != "bootstrap" {
		t.Errorf("stored token %+v, %v; want name bootstrap", tok, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".admin-token-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	t.Run("second start returns the same token", func(t *testing.T) {
		again, created, err := admin.EnsureToken(t.Context(), st, nil, dir, "")
		if err != nil || created || again != token {
			t.Errorf("EnsureToken = %q, %v, %v; want the first token, not created", again, created, err)
		}
	})

	t.Run("the database holds only the hash", func(t *testing.T) {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		var db []byte
		files, _ := filepath.Glob(filepath.Join(dir, "pinpoint.db*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			db = append(db, b...)
		}
		if !bytes.Contains(db, []byte(admin.HashToken(token))) {
			t.Fatal("the hash is not in the database files; the test reads the wrong files")
		}
		for _, needle := range []string{token, strings.TrimPrefix(token, admin.TokenPrefix)} {
			if bytes.Contains(db, []byte(needle)) {
				t.Errorf("the database files contain the raw token")
			}
		}
	})
}

func TestEnsureTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	const env = "operator-chosen-token-0123456789"
	for i := range 2 {
		token, created, err := admin.EnsureToken(t.Context(), st, nil, dir, env)
		if err != nil || created || token != env {
			t.Fatalf("call %d: EnsureToken = %q, %v, %v", i, token, created, err)
		}
	}
	list, err := st.ListAdminTokens(t.Context())
	if err != nil || len(list) != 1 || list[0].Name != "env" {
		t.Errorf("stored tokens %+v, %v; want one named env", list, err)
	}
	if _, err := os.Stat(filepath.Join(dir, admin.TokenFileName)); !os.IsNotExist(err) {
		t.Errorf("a token from the environment was written to a file (stat err %v)", err)
	}
}

func TestEnsureTokenRefusesWeakEnvironmentTokens(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"tiny-tok", "has a space in it 0123456789", "line\nbreak-0123456789abc"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			st := openStore(t, dir)
			if _, _, err := admin.EnsureToken(t.Context(), st, nil, dir, env); err == nil {
				t.Fatal("accepted")
			} else if strings.Contains(err.Error(), env) {
				t.Errorf("error repeats the token: %v", err)
			}
			if list, _ := st.ListAdminTokens(t.Context()); len(list) != 0 {
				t.Errorf("stored %d tokens", len(list))
			}
		})
	}
}

func TestEnsureTokenWithExistingState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		storeTokens []string // raw tokens stored before
		file        string   // token file content; "" for none
		wantSame    string   // expected returned token; "new" for a fresh one; "" for none
	}{
		{name: "file with a stored token", storeTokens: []string{"ppadm_existing-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			file: "ppadm_existing-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", wantSame: "ppadm_existing-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{name: "stale file and an empty store", file: "ppadm_from-an-older-database-bbbbbbbbbbbbbbbbbbbbbbbbbbb\n", wantSame: "new"},
		{name: "empty file and an empty store", file: "\n", wantSame: "new"},
		{name: "tokens exist but no file", storeTokens: []string{"ppadm_someone-else-holds-this-ccccccccccccccccccccccccc"}, wantSame: ""},
		{name: "stale file and other tokens", storeTokens: []string{"ppadm_someone-else-holds-this-ccccccccccccccccccccccccc"},
			file: "ppadm_from-an-older-database-bbbbbbbbbbbbbbbbbbbbbbbbbbb\n", wantSame: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			st := openStore(t, dir)
			for _, tok := range tc.storeTokens {
				if _, err := st.CreateAdminToken(t.Context(), "earlier", admin.HashToken(tok)); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, admin.TokenFileName)
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			token, created, err := admin.EnsureToken(t.Context(), st, nil, dir, "")
			if err != nil {
				t.Fatal(err)
			}
			switch tc.wantSame {
			case "new":
				if !created || !tokenPattern.MatchString(token) {
					t.Fatalf("EnsureToken = %q, %v; want a new token", token, created)
				}
				if got, _ := admin.ReadTokenFile(path); got != token {
					t.Errorf("token file holds %q, want the new token", got)
				}
			default:
				if created || token != tc.wantSame {
					t.Errorf("EnsureToken = %q, %v; want %q, not created", token, created, tc.wantSame)
				}
			}
		})
	}
}
