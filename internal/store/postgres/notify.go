package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinpointgw/pinpoint/internal/store"
)

var _ store.Notifier = (*Store)(nil)

// eventsChannel is the channel the triggers of migration 0004 notify.
const eventsChannel = "pinpoint_events"

// Reconnection backoff of Listen: doubling from the first to the last.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// Listen reports every change committed to the store's schema — by this
// process or any other — until ctx ends. It holds one connection of its
// own (outside the pool) that LISTENs on pinpoint_events; PostgreSQL
// delivers a notification when the transaction that sent it commits, in
// commit order. Events of other schemas in the database are ignored.
//
// Each time the connection is established (the first time included) Listen
// reports store.EventReconnected; a lost connection is reported as
// store.EventDisconnected and retried with backoff (100 ms doubling to 5 s).
// Listen returns nil when ctx ends.
func (s *Store) Listen(ctx context.Context, onEvent func(store.Event)) error {
	backoff := listenBackoffMin
	for {
		started := time.Now()
		err := s.listenOnce(ctx, onEvent)
		if ctx.Err() != nil {
			return nil
		}
		onEvent(store.Event{Kind: store.EventDisconnected, Err: err})
		if time.Since(started) > listenBackoffMax {
			// The connection had been up for a while: retry promptly.
			backoff = listenBackoffMin
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenOnce connects, listens and delivers events until the connection
// fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, onEvent func(store.Event)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+eventsChannel); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	onEvent(store.Event{Kind: store.EventReconnected})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgres: listen: %w", err)
		}
		if e, ok := s.parseEvent(n.Payload); ok {
			onEvent(e)
		}
	}
}

// eventPayload is what the pinpoint_notify trigger sends.
type eventPayload struct {
	Schema string `json:"schema"`
	Kind   string `json:"kind"`
	ID     string `json:"id"`
}

// parseEvent decodes a notification, reporting false for another schema's
// or a malformed one.
func (s *Store) parseEvent(payload string) (store.Event, bool) {
	var p eventPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil || p.Schema != s.schema {
		return store.Event{}, false
	}
	switch p.Kind {
	case store.EventRevision, store.EventTenant, store.EventConsumer, store.EventKey:
		return store.Event{Kind: p.Kind, ID: p.ID}, true
	}
	return store.Event{}, false
}
