package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinpointgw/pinpoint/internal/audit"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/explain/token"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/problem"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// generatedTokenKeyID names the decision-token key the gateway generates
// in a store that holds none. Every node generates the same id, so when
// several start at once the store keeps exactly one and the others reload.
const generatedTokenKeyID = config.StoredTokenKeyPrefix + "1"

// tokenKeys holds the keyring refusals are sealed with: the keys of the
// config in force first (the first seals), then the keys in the store,
// which open the tokens of earlier keys.
type tokenKeys struct {
	// ring is nil when decision tokens are off or no key is known yet.
	ring atomic.Pointer[token.Keyring]

	mu sync.Mutex
	// stored are the store's keys, newest first (LoadTokenKeys).
	stored []token.Key
	// built is what ring was built from, to skip identical rebuilds.
	built struct {
		on     bool
		config []config.TokenKeyRef
		stored int
	}
}

// decisionToken seals the decision behind refusal p (see internal/explain/token).
func (g *Gateway) decisionToken(x *pipeline.Exchange, p *problem.Problem, d *pipeline.Denial) string {
	ring := g.tokens.ring.Load()
	if ring == nil {
		return ""
	}
	return ring.Seal(&token.Decision{
		RequestID:    x.ID,
		Time:         x.Start,
		Route:        x.Route,
		Stage:        p.Stage,
		Rule:         d.Rule,
		Code:         p.Code,
		ConsumerID:   x.Identity.ConsumerID,
		CredentialID: x.Identity.CredentialID,
		Revision:     x.Revision,
	})
}

// DecisionTokens returns the keyring the gateway seals and opens decision
// tokens with, or nil when tokens are off or no key is loaded.
func (g *Gateway) DecisionTokens() *token.Keyring { return g.tokens.ring.Load() }

// DecodeToken opens a decision token with the gateway's keys (the admin
// API's POST /admin/decision-tokens/decode).
func (g *Gateway) DecodeToken(tok string) (token.Decision, error) {
	ring := g.tokens.ring.Load()
	if ring == nil {
		// Tokens are off now, but the keys still open earlier tokens.
		var err error
		if ring, err = g.tokens.openRing(); err != nil {
			return token.Decision{}, err
		}
	}
	return ring.Open(tok)
}

// LoadTokenKeys loads the decision-token keys kept in the store, and
// generates the first one (store-1) when the store holds none, so that
// every node of a cluster seals with the same key when the config names
// none. Call it once at start, before or after the first revision is
// published. Secrets are never logged.
func (g *Gateway) LoadTokenKeys(ctx context.Context) error {
	ks := g.o.Store
	list, err := ks.TokenKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading decision-token keys: %w", err)
	}
	if len(list) == 0 {
		k, err := token.GenerateKey(generatedTokenKeyID)
		if err != nil {
			return err
		}
		err = ks.AddTokenKey(ctx, store.TokenKey{ID: k.ID, Secret: k.Secret, CreatedAt: time.Now()})
		switch {
		case err == nil:
			g.log.Info("generated a decision-token key and stored it", "key_id", k.ID)
			_ = g.o.Audit.Record(ctx, store.AuditEntry{
				Actor: store.AuditSystemActor, Action: store.AuditTokenKeyCreated,
				ObjectKind: store.AuditObjectDecisionKey, ObjectID: k.ID, Revision: g.Revision(),
				Detail: audit.Detail(map[string]any{"generated": true}),
			})
		case errors.Is(err, store.ErrExists):
			// Another node stored its key first: use that one.
		default:
			return fmt.Errorf("storing the generated decision-token key: %w", err)
		}
		if list, err = ks.TokenKeys(ctx); err != nil {
			return fmt.Errorf("reading decision-token keys: %w", err)
		}
	}
	stored := make([]token.Key, 0, len(list))
	for _, k := range list {
		if token.CheckKeyID(k.ID) != nil || len(k.Secret) != token.KeySize {
			g.log.Warn("ignoring an invalid stored decision-token key", "key_id", k.ID)
			continue
		}
		stored = append(stored, token.Key{ID: k.ID, Secret: bytes.Clone(k.Secret)})
	}
	// Under applyMu, so that no publish runs between reading the current
	// snapshot and rebuilding the keyring for it.
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	g.tokens.mu.Lock()
	g.tokens.stored = stored
	g.tokens.mu.Unlock()
	if s := g.snap.Load(); s != nil {
		g.publishTokenKeys(s.Config)
	}
	return nil
}

// publishTokenKeys rebuilds the keyring for the config of a snapshot being
// published, when its keys (or the stored ones) changed.
func (g *Gateway) publishTokenKeys(cfg *config.Config) {
	t := &g.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	dt := &cfg.Explain.DecisionTokens
	on := dt.IsEnabled()
	if t.built.on == on && t.built.stored == len(t.stored) && equalKeyRefs(t.built.config, dt.Keys) {
		return
	}
	t.built.on, t.built.config, t.built.stored = on, append([]config.TokenKeyRef(nil), dt.Keys...), len(t.stored)
	if !on {
		t.ring.Store(nil)
		return
	}
	ring, err := t.buildRing(dt.Keys)
	if err != nil {
		// Validation already checked every configured key; this is a
		// stored key colliding with one, or no key at all.
		g.log.Warn("refusals carry no decision_token", "reason", err.Error())
		t.ring.Store(nil)
		return
	}
	if old := t.ring.Load(); old == nil || old.SealingKeyID() != ring.SealingKeyID() {
		g.log.Info("decision tokens sealed with key", "key_id", ring.SealingKeyID(), "keys", len(ring.KeyIDs()))
	}
	t.ring.Store(ring)
}

// buildRing makes the keyring of refs (a config's keys) and the stored
// keys; the caller holds mu.
func (t *tokenKeys) buildRing(refs []config.TokenKeyRef) (*token.Keyring, error) {
	keys := make([]token.Key, 0, len(refs)+len(t.stored))
	for _, r := range refs {
		secret, err := token.ParseSecret(r.Secret)
		if err != nil {
			return nil, fmt.Errorf("decision-token key %q: %w", r.ID, err)
		}
		keys = append(keys, token.Key{ID: r.ID, Secret: secret})
	}
	for _, k := range t.stored {
		if !hasKey(keys, k.ID) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no decision-token key: the config names none and none is loaded from the store")
	}
	return token.NewKeyring(keys...)
}

// openRing is a keyring of the stored keys and the last config's, for
// opening tokens while sealing is off.
func (t *tokenKeys) openRing() (*token.Keyring, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buildRing(t.built.config)
}

func hasKey(keys []token.Key, id string) bool {
	for _, k := range keys {
		if k.ID == id {
			return true
		}
	}
	return false
}

func equalKeyRefs(a, b []config.TokenKeyRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
