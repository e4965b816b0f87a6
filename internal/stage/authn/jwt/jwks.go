package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
)

// JWKS fetching.
const (
	// fetchTimeout bounds one JWKS request.
	fetchTimeout = 5 * time.Second
	// firstFetchWait is how long New waits for the first JWKS answer, so a
	// config apply normally starts with a warm key set, without an IdP
	// outage holding the apply up.
	firstFetchWait = 2 * time.Second
	// unknownKIDInterval is the least time between two fetches caused by
	// tokens naming an unknown kid, so forged kids cannot flood the IdP.
	unknownKIDInterval = 10 * time.Second
	// maxRetry caps the backoff of retries while no key set was fetched.
	maxRetry = 30 * time.Second
	// maxJWKSBytes bounds a JWKS document.
	maxJWKSBytes = 1 << 20
)

// errNoKeySet is returned by key lookups while no JWKS was ever fetched:
// the IdP is unavailable, not the token wrong.
var errNoKeySet = errors.New("no JWKS fetched yet")

// remoteSet is a JWKS fetched from a URL: a jwkset.Storage for keyfunc that
// refreshes in the background and, rate-limited, when a token names a kid
// it does not hold. A failed refresh keeps the keys of the last good one.
//
// It does its own fetching instead of jwkset.NewStorageFromHTTP because that
// fetches synchronously in the constructor (an IdP outage would hold up config
// applies), retries a failed first fetch only at the refresh interval, and
// its unknown-kid limiter blocks callers while it waits.
type remoteSet struct {
	*jwkset.MemoryJWKSet
	url      string
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	every    time.Duration // background refresh interval
	minGap   time.Duration // least time between on-demand refreshes
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when the background loop ends
	first    chan struct{} // closed when the first fetch attempt ends
	fetched  atomic.Bool   // a key set was fetched at least once
	mu       sync.Mutex
	inflight chan struct{} // closed when the running fetch ends; nil if none
	lastTry  time.Time
	lastOK   time.Time
	lastErr  error
}

func newRemoteSet(url string, every, minGap time.Duration, o Options) *remoteSet {
	ctx, cancel := context.WithCancel(context.Background())
	s := &remoteSet{
		MemoryJWKSet: jwkset.NewMemoryStorage(),
		url:          url, client: o.HTTPClient, log: o.Logger, now: o.Now,
		every: every, minGap: minGap,
		ctx: ctx, cancel: cancel,
		done: make(chan struct{}), first: make(chan struct{}),
	}
	go s.loop()
	return s
}

// loop fetches at once, then every s.every; while no key set was ever
// fetched it retries sooner, with backoff.
func (s *remoteSet) loop() {
	defer close(s.done)
	s.refresh(true)
	close(s.first)
	backoff := time.Second
	for {
		wait := s.every
		if !s.fetched.Load() {
			wait = min(backoff, s.every)
			backoff = min(2*backoff, maxRetry)
		}
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
			s.refresh(true)
		}
	}
}

// waitFirst waits up to d for the first fetch attempt.
func (s *remoteSet) waitFirst(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.first:
	case <-t.C:
	}
}

// close stops the background loop and any fetch, and waits for the loop.
func (s *remoteSet) close() {
	s.cancel()
	<-s.done
}

// refresh fetches the key set, or waits for the fetch already running. An
// on-demand refresh (force false) is skipped within minGap of the last
// attempt. While no key set was ever fetched, on-demand callers do not wait
// for a fetch that is already running: a hanging IdP must not pile up
// requests, each answers idp_unavailable at once.
func (s *remoteSet) refresh(force bool) {
	s.mu.Lock()
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		if !force && !s.fetched.Load() {
			return
		}
		select {
		case <-ch:
		case <-s.ctx.Done():
		}
		return
	}
	now := s.now()
	if !force && !s.lastTry.IsZero() && now.Sub(s.lastTry) < s.minGap {
		s.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	s.inflight, s.lastTry = ch, now
	s.mu.Unlock()

	n, err := s.fetch()

	s.mu.Lock()
	s.inflight = nil
	if err == nil {
		s.lastOK, s.lastErr = s.now(), nil
	} else {
		s.lastErr = err
	}
	s.mu.Unlock()
	close(ch)
	if err != nil && s.ctx.Err() == nil {
		s.log.Warn("jwks refresh failed; keeping the cached keys", "url", s.url, "cached", s.fetched.Load(), "error", err)
	} else if err == nil {
		s.log.Debug("jwks refreshed", "url", s.url, "keys", n)
	}
}

// fetch downloads and parses the JWKS and replaces the stored keys.
// Symmetric keys, encryption keys and unsupported key types are skipped; a
// set with no usable key is an error (the cached keys stay).
func (s *remoteSet) fetch() (int, error) {
	ctx, cancel := context.WithTimeout(s.ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc jwkset.JWKSMarshal
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&doc); err != nil {
		return 0, fmt.Errorf("invalid JWKS document: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(doc.Keys))
	var skipped []error
	for i, km := range doc.Keys {
		if km.USE == jwkset.UseEnc {
			continue
		}
		// Public material only: a symmetric key in a JWKS is refused here.
		k, err := jwkset.NewJWKFromMarshal(km, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			skipped = append(skipped, fmt.Errorf("keys[%d] (kid %q): %w", i, km.KID, err))
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return 0, fmt.Errorf("no usable signing key in the JWKS (%d keys): %w", len(doc.Keys), errors.Join(skipped...))
	}
	if len(skipped) > 0 {
		s.log.Warn("jwks keys skipped", "url", s.url, "error", errors.Join(skipped...))
	}
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, keys); err != nil {
		return 0, err
	}
	s.fetched.Store(true)
	return len(keys), nil
}

// KeyRead returns the key with kid. For a kid it does not hold it refreshes
// (rate-limited) and looks again.
func (s *remoteSet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	if k, err := s.MemoryJWKSet.KeyRead(ctx, kid); err == nil {
		return k, nil
	}
	s.refresh(false)
	if !s.fetched.Load() {
		return jwkset.JWK{}, errNoKeySet
	}
	return s.MemoryJWKSet.KeyRead(ctx, kid)
}

// KeyReadAll returns every key, for tokens without a kid.
func (s *remoteSet) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	if !s.fetched.Load() {
		s.refresh(false)
		if !s.fetched.Load() {
			return nil, errNoKeySet
		}
	}
	return s.MemoryJWKSet.KeyReadAll(ctx)
}

// status reports the last successful fetch and the error of the last
// attempt (nil when it succeeded), for the operator's reason text.
func (s *remoteSet) status() (lastOK time.Time, lastErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastOK, s.lastErr
}
