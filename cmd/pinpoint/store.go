package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/store/postgres"
	"github.com/pinpointgw/pinpoint/internal/store/sqlite"
)

// envStore names the store when --store is not given.
const envStore = "PINPOINT_STORE"

// isPostgresDSN reports whether a --store value names a PostgreSQL database.
func isPostgresDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// storeLocation resolves --store (or $PINPOINT_STORE): a PostgreSQL URL,
// or a SQLite file ("" is DATA_DIR/pinpoint.db).
func storeLocation(flag, dataDir string) (string, error) {
	if flag == "" {
		flag = os.Getenv(envStore)
	}
	switch {
	case flag == "":
		return filepath.Join(dataDir, "pinpoint.db"), nil
	case isPostgresDSN(flag):
		return flag, nil
	case strings.Contains(flag, "://"):
		return "", usagef("--store: want a postgres:// URL or the path of a SQLite file")
	}
	return flag, nil
}

// openStore opens the store at loc (see storeLocation), running its
// migrations.
func openStore(ctx context.Context, loc string) (store.Store, error) {
	if isPostgresDSN(loc) {
		return postgres.Open(ctx, loc)
	}
	return sqlite.Open(ctx, loc)
}

// describeStore names the store for the banner and logs without the
// PostgreSQL URL's password.
func describeStore(loc string) string {
	if !isPostgresDSN(loc) {
		return "SQLite " + loc
	}
	rest := loc[strings.Index(loc, "://")+3:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	return "PostgreSQL " + rest
}

// storeError keeps a DSN's password out of an open error.
func storeError(loc string, err error) error {
	return fmt.Errorf("store %s: %w", describeStore(loc), err)
}
