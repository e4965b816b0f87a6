package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// maxBackoff caps the wait between two delivery attempts.
const maxBackoff = time.Minute

// Notifier delivers notifications to webhooks: one bounded queue and one
// delivery goroutine per webhook, so a slow receiver delays only its own
// notifications. It never blocks the caller: a full queue drops the
// notification and counts it.
type Notifier struct {
	client  *http.Client
	log     *slog.Logger
	metrics *metrics

	// deliveries is cancelled when Close gives up waiting.
	deliveries context.Context
	abandon    context.CancelFunc
	wg         sync.WaitGroup

	mu     sync.Mutex
	hooks  map[string]*sender
	closed bool
}

// sender is one webhook's queue and delivery goroutine.
type sender struct {
	cfg   config.Webhook
	queue chan delivery
}

// delivery is one queued notification.
type delivery struct {
	rule, state string
	body        []byte
}

// newNotifier creates a notifier with no webhooks; call configure.
func newNotifier(client *http.Client, log *slog.Logger, m *metrics) *Notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &Notifier{client: client, log: log, metrics: m, deliveries: ctx, abandon: cancel, hooks: map[string]*sender{}}
}

// configure makes the webhooks those of the config: new ones start,
// changed ones restart (their queued notifications are still delivered
// with the old settings) and removed ones stop after their queue.
func (n *Notifier) configure(hooks []config.Webhook) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	keep := make(map[string]bool, len(hooks))
	for _, h := range hooks {
		keep[h.Name] = true
		if s, ok := n.hooks[h.Name]; ok {
			if reflect.DeepEqual(s.cfg, h) {
				continue
			}
			close(s.queue)
		}
		s := &sender{cfg: h, queue: make(chan delivery, max(h.QueueSize, 1))}
		n.hooks[h.Name] = s
		n.wg.Add(1)
		go n.run(s)
	}
	for name, s := range n.hooks {
		if !keep[name] {
			close(s.queue)
			delete(n.hooks, name)
		}
	}
}

// send queues a notification for the named webhooks (every webhook when
// names is empty).
func (n *Notifier) send(names []string, note *Notification) {
	body, err := json.Marshal(note)
	if err != nil {
		n.log.Error("alert notification not encoded", "rule", note.Rule, "error", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	targets := names
	if len(targets) == 0 {
		for name := range n.hooks {
			targets = append(targets, name)
		}
	}
	for _, name := range targets {
		s, ok := n.hooks[name]
		if !ok {
			continue
		}
		select {
		case s.queue <- delivery{rule: note.Rule, state: note.State, body: body}:
		default:
			n.metrics.dropped.WithLabelValues(name, "queue_full").Inc()
			n.log.Warn("alert notification dropped: webhook queue full", "webhook", name, "rule", note.Rule,
				"state", note.State, "queue_size", cap(s.queue))
		}
	}
}

// close stops accepting notifications and waits for the queued ones until
// ctx ends; then the remaining ones are dropped and counted.
func (n *Notifier) close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		for name, s := range n.hooks {
			close(s.queue)
			delete(n.hooks, name)
		}
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		n.abandon()
		return nil
	case <-ctx.Done():
		n.abandon()
		<-done
		return fmt.Errorf("alert notifications not all delivered: %w", ctx.Err())
	}
}

// run delivers s's queue in order until it is closed.
func (n *Notifier) run(s *sender) {
	defer n.wg.Done()
	for d := range s.queue {
		if n.deliveries.Err() != nil {
			n.metrics.dropped.WithLabelValues(s.cfg.Name, "shutdown").Inc()
			continue
		}
		n.deliver(s.cfg, d)
	}
}

// deliver POSTs one notification, retrying with exponential backoff on
// network errors, timeouts, 408, 429 and 5xx answers.
func (n *Notifier) deliver(h config.Webhook, d delivery) {
	retries := h.Retries
	if retries < 0 {
		retries = 0
	}
	backoff := h.Backoff.D()
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-n.deliveries.Done():
				t.Stop()
				n.metrics.dropped.WithLabelValues(h.Name, "shutdown").Inc()
				return
			}
			backoff = min(2*backoff, maxBackoff)
		}
		retry, err := n.post(h, d.body)
		if err == nil {
			n.metrics.sent.WithLabelValues(h.Name).Inc()
			n.log.Info("alert notification sent", "webhook", h.Name, "rule", d.rule, "state", d.state, "attempts", attempt+1)
			return
		}
		last = err
		if !retry {
			break
		}
	}
	n.metrics.dropped.WithLabelValues(h.Name, "failed").Inc()
	n.log.Error("alert notification not delivered", "webhook", h.Name, "rule", d.rule, "state", d.state, "error", last)
}

// post makes one attempt. Errors never include the URL (it may embed a
// token) or a header value.
func (n *Notifier) post(h config.Webhook, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(n.deliveries, h.Timeout.Or(5*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pinpoint-alerts")
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("POST failed: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return true, fmt.Errorf("receiver answered %d", code)
	default:
		return false, fmt.Errorf("receiver answered %d (not retried)", code)
	}
}
