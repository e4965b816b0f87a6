package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/explain/token"
	"github.com/pinpointgw/pinpoint/internal/problem"
)

// envTokenKeys holds decision-token keys for offline decoding, in the
// --key-file format ("id=secret" items, separated by newlines or commas).
const envTokenKeys = "PINPOINT_TOKEN_KEYS"

// decodedToken is `explain --token --json` output: the decision, the
// catalog's status and title for its code, and where the key came from.
type decodedToken struct {
	token.Decision
	Status   int    `json:"status,omitempty"`
	Title    string `json:"title,omitempty"`
	KeysFrom string `json:"keys_from"`
}

// explainToken decodes a refusal's decision_token without the call log.
// The keys come from keyFile when given, else from $PINPOINT_TOKEN_KEYS,
// else from the local store (c.tokenStore, $PINPOINT_STORE, or
// pinpoint-data/pinpoint.db when it exists), else from the running
// gateway's admin API, which also knows the keys of its config.
func (c *cli) explainToken(ctx context.Context, tok, keyFile string, asJSON bool) error {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return usagef("--token: give the decision_token of a refusal")
	}
	// Refuse what is no token before looking for keys.
	if _, err := token.KeyIDOf(tok); err != nil {
		return fmt.Errorf("--token: %w", err)
	}
	d, from, err := c.openToken(ctx, tok, keyFile)
	if err != nil {
		return c.fail(err)
	}
	out := decodedToken{Decision: d, KeysFrom: from}
	if code, ok := problem.Lookup(d.Code); ok {
		out.Status, out.Title = code.Status, code.Title
	}
	if asJSON {
		c.printJSON(out)
		return nil
	}
	c.printDecodedToken(out)
	return nil
}

// openToken finds the keys and opens tok, reporting where the keys came from.
func (c *cli) openToken(ctx context.Context, tok, keyFile string) (token.Decision, string, error) {
	id, _ := token.KeyIDOf(tok)
	if keyFile != "" {
		text, err := os.ReadFile(keyFile)
		if err != nil {
			return token.Decision{}, "", fmt.Errorf("--key-file: %w", err)
		}
		if info, err := os.Stat(keyFile); err == nil && info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(c.stderr, "warning: %s is readable by other users (mode %04o); keep decision-token keys mode 0600\n",
				keyFile, info.Mode().Perm())
		}
		return openWith(tok, id, string(text), "--key-file "+keyFile)
	}
	if text, ok := c.lookupEnv(envTokenKeys); ok && strings.TrimSpace(text) != "" {
		return openWith(tok, id, text, "$"+envTokenKeys)
	}

	// The local store holds the keys the gateway generated; the config's
	// keys are known only to the gateway, so an unknown key falls through
	// to the admin API.
	var tried []string
	loc, err := c.tokenStoreLocation()
	if err != nil {
		return token.Decision{}, "", err
	}
	switch d, err := openFromStore(ctx, tok, loc); {
	case err == nil:
		return d, describeStore(loc), nil
	case errors.Is(err, fs.ErrNotExist):
		tried = append(tried, "no store at "+loc)
	case errors.Is(err, token.ErrUnknownKey):
		tried = append(tried, "the store ("+describeStore(loc)+") does not hold key "+strconv.Quote(id))
	case errors.Is(err, token.ErrTampered), errors.Is(err, token.ErrMalformed):
		return token.Decision{}, "", err
	default:
		tried = append(tried, err.Error())
	}

	client, err := c.client()
	if err != nil {
		return token.Decision{}, "", err
	}
	d, err := client.DecodeToken(ctx, tok)
	if err == nil {
		return d, "the admin API at " + c.adminURL, nil
	}
	var apiErr *admin.APIError
	var netErr *net.OpError
	switch {
	case errors.As(err, &apiErr) && apiErr.Problem.Code == "admin.not_found":
		tried = append(tried, "the gateway at "+c.adminURL+" does not hold it either")
	case errors.As(err, &apiErr):
		return token.Decision{}, "", err
	case errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &netErr):
		tried = append(tried, "the admin API at "+c.adminURL+" is unreachable")
	default:
		return token.Decision{}, "", err
	}
	return token.Decision{}, "", fmt.Errorf("no key opens this token (sealed with key %q): %s; "+
		"pass --key-file with the key (one id=secret per line) or set %s", id, strings.Join(tried, "; "), envTokenKeys)
}

// openWith opens tok with keys in the --key-file format.
func openWith(tok, id, text, from string) (token.Decision, string, error) {
	keys, err := token.ParseKeys(text)
	if err != nil {
		return token.Decision{}, "", fmt.Errorf("%s: %w", from, err)
	}
	ring, err := token.NewKeyring(keys...)
	if err != nil {
		return token.Decision{}, "", fmt.Errorf("%s: %w", from, err)
	}
	d, err := ring.Open(tok)
	if errors.Is(err, token.ErrUnknownKey) {
		return token.Decision{}, "", fmt.Errorf("%s does not hold key %q, which sealed this token", from, id)
	}
	return d, from, err
}

// tokenStoreLocation is the store to read keys from: `explain --store`,
// $PINPOINT_STORE, or the default SQLite file.
func (c *cli) tokenStoreLocation() (string, error) {
	flag := c.tokenStore
	if flag == "" {
		flag, _ = c.lookupEnv(envStore)
	}
	if flag == "" {
		return filepath.Join("pinpoint-data", "pinpoint.db"), nil
	}
	loc, err := storeLocation(flag, "pinpoint-data")
	if err != nil {
		return "", err
	}
	return loc, nil
}

// openFromStore opens tok with the keys stored at loc. A SQLite file that
// does not exist is fs.ErrNotExist (it is never created here).
func openFromStore(ctx context.Context, tok, loc string) (token.Decision, error) {
	if !isPostgresDSN(loc) {
		if _, err := os.Stat(loc); err != nil {
			return token.Decision{}, err
		}
	}
	st, err := openStore(ctx, loc)
	if err != nil {
		return token.Decision{}, storeError(loc, err)
	}
	defer st.Close()
	stored, err := st.TokenKeys(ctx)
	if err != nil {
		return token.Decision{}, storeError(loc, err)
	}
	keys := make([]token.Key, 0, len(stored))
	for _, k := range stored {
		keys = append(keys, token.Key{ID: k.ID, Secret: k.Secret})
	}
	if len(keys) == 0 {
		return token.Decision{}, fmt.Errorf("%w: the store holds no decision-token key", token.ErrUnknownKey)
	}
	ring, err := token.NewKeyring(keys...)
	if err != nil {
		return token.Decision{}, storeError(loc, err)
	}
	return ring.Open(tok)
}

// printDecodedToken prints a decoded token for people:
//
//	request:     01920d4e-8f3a-7b21-9c4d-2f6e8a1b3c5d
//	time:        2026-12-01T14:02:07.123Z
//	answer:      403 authz.scope_missing (Required scope missing)
//	decided by:  authz, rule scopes
//	...
func (c *cli) printDecodedToken(t decodedToken) {
	w := c.stdout
	fmt.Fprintf(w, "request:     %s\n", orDash(t.RequestID))
	fmt.Fprintf(w, "time:        %s\n", t.Time.In(c.loc).Format("2006-01-02T15:04:05.000Z07:00"))
	answer := t.Code
	if t.Status != 0 {
		answer = fmt.Sprintf("%d %s (%s)", t.Status, t.Code, t.Title)
	}
	fmt.Fprintf(w, "answer:      %s\n", orDash(answer))
	decided := orDash(t.Stage)
	if t.Rule != "" {
		decided += ", rule " + t.Rule
	}
	fmt.Fprintf(w, "decided by:  %s\n", decided)
	fmt.Fprintf(w, "route:       %s\n", orDash(t.Route))
	fmt.Fprintf(w, "credential:  %s\n", orDash(t.CredentialID))
	fmt.Fprintf(w, "consumer:    %s\n", orDash(t.ConsumerID))
	fmt.Fprintf(w, "revision:    %d\n", t.Revision)
	fmt.Fprintf(w, "token key:   %s (from %s)\n", t.KeyID, t.KeysFrom)
	if t.Truncated {
		fmt.Fprintf(w, "note:        values ending in … were too long for the token and are cut\n")
	}
	fmt.Fprintf(w, "\nThe token holds the decision only. For the trace and the fix, run\n"+
		"`pinpoint explain %s` where the answering gateway's call log is reachable.\n", t.RequestID)
}
