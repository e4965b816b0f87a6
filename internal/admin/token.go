package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// TokenFileName is the file under the data directory that holds the
// generated admin token for the local CLI. Deleting it does not revoke the
// token; it only forgets it.
const TokenFileName = "admin-token"

// TokenPrefix starts every generated admin token, so that leaked tokens are
// easy to recognize in secret scanners.
const TokenPrefix = "ppadm_"

// MinTokenLength is the shortest admin token EnsureToken accepts from the
// environment (PINPOINT_ADMIN_TOKEN).
const MinTokenLength = 16

// Token names recorded in the store.
const (
	tokenNameEnv       = "env"
	tokenNameBootstrap = "bootstrap"
)

// EnsureToken makes sure the admin API has a token this process can hand to
// its operator, and returns it:
//
//   - fromEnv (PINPOINT_ADMIN_TOKEN) set: its hash is stored under the name
//     "env" if it is not already, and fromEnv is returned.
//   - otherwise, dataDir/admin-token holds a token whose hash is stored: that
//     token is returned.
//   - otherwise, when the store holds no admin token at all, a new one
//     ("ppadm_" + 43 base64url characters, 256 random bits) is generated, its
//     hash stored under the name "bootstrap", and it is written to
//     dataDir/admin-token with mode 0600; created is true.
//   - otherwise (tokens exist but this process knows none of them) the
//     returned token is "" and err is nil: the operator already holds one.
//
// Tokens are only ever stored as SHA-256 hashes. Each token stored is
// recorded in the audit log through rec (nil: not recorded) as
// admin_token.created, by "system", with the token's name and never the
// token or its hash.
func EnsureToken(ctx context.Context, st store.AdminTokens, rec *audit.Recorder, dataDir string, fromEnv string) (token string, created bool, err error) {
	if fromEnv != "" {
		if err := checkToken(fromEnv); err != nil {
			return "", false, err
		}
		if err := storeHash(ctx, st, rec, tokenNameEnv, fromEnv); err != nil {
			return "", false, err
		}
		return fromEnv, false, nil
	}
	path := filepath.Join(dataDir, TokenFileName)
	if t, err := ReadTokenFile(path); err == nil {
		_, err := st.AdminTokenByHash(ctx, HashToken(t))
		switch {
		case err == nil:
			return t, false, nil
		case !errors.Is(err, store.ErrNotFound):
			return "", false, fmt.Errorf("admin token: looking up the token of %s: %w", path, err)
		}
		// A token file from an older database: replace it below if the
		// store has no tokens at all.
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errEmptyTokenFile) {
		return "", false, err
	}
	existing, err := st.ListAdminTokens(ctx)
	if err != nil {
		return "", false, fmt.Errorf("admin token: listing tokens: %w", err)
	}
	if len(existing) > 0 {
		return "", false, nil
	}
	token, err = NewToken()
	if err != nil {
		return "", false, err
	}
	t, err := st.CreateAdminToken(ctx, tokenNameBootstrap, HashToken(token))
	if err != nil {
		return "", false, fmt.Errorf("admin token: storing the new token: %w", err)
	}
	recordToken(ctx, rec, t, "generated; written to "+path)
	if err := writeTokenFile(path, token); err != nil {
		return "", false, err
	}
	return token, true, nil
}

// NewToken generates an admin token: "ppadm_" followed by 32 random bytes
// in unpadded base64url (43 characters).
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// ReadTokenFile reads a token written by EnsureToken, trimming surrounding
// whitespace. A missing file yields an error matching fs.ErrNotExist.
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%s: %w", path, errEmptyTokenFile)
	}
	return t, nil
}

var errEmptyTokenFile = errors.New("admin token file is empty")

func checkToken(t string) error {
	if len(t) < MinTokenLength {
		return fmt.Errorf("admin token from the environment is too short: use at least %d characters", MinTokenLength)
	}
	if strings.ContainsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("admin token from the environment must not contain spaces or control characters")
	}
	return nil
}

func storeHash(ctx context.Context, st store.AdminTokens, rec *audit.Recorder, name, token string) error {
	hash := HashToken(token)
	_, err := st.AdminTokenByHash(ctx, hash)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admin token: looking up the %s token: %w", name, err)
	}
	t, err := st.CreateAdminToken(ctx, name, hash)
	if err != nil {
		return fmt.Errorf("admin token: storing the %s token: %w", name, err)
	}
	recordToken(ctx, rec, t, "from the environment (PINPOINT_ADMIN_TOKEN)")
	return nil
}

// recordToken appends admin_token.created; a failure is the recorder's to
// log and count (the token is stored and works).
func recordToken(ctx context.Context, rec *audit.Recorder, t store.AdminToken, origin string) {
	_ = rec.Record(ctx, store.AuditEntry{
		Actor: store.AuditSystemActor, Action: store.AuditAdminTokenCreated, Source: "serve",
		ObjectKind: store.AuditObjectAdminToken, ObjectID: t.Name,
		Detail: audit.Detail(map[string]string{"id": strconv.FormatInt(t.ID, 10), "origin": origin}),
	})
}

// writeTokenFile writes the token with mode 0600 through a temporary file
// and a rename, so that a reader never sees a partial token.
func writeTokenFile(path, token string) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+TokenFileName+"-*")
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	// CreateTemp already uses 0600; make sure whatever the umask.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		return fmt.Errorf("admin token: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("admin token: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("admin token: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	return nil
}
