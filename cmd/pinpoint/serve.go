package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pinpointgw/pinpoint/examples"
	"github.com/pinpointgw/pinpoint/internal/admin"
	"github.com/pinpointgw/pinpoint/internal/ai"
	"github.com/pinpointgw/pinpoint/internal/analytics"
	"github.com/pinpointgw/pinpoint/internal/calllog"
	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/echo"
	"github.com/pinpointgw/pinpoint/internal/gateway"
	"github.com/pinpointgw/pinpoint/internal/identity"
	"github.com/pinpointgw/pinpoint/internal/store"
	"github.com/pinpointgw/pinpoint/internal/telemetry"
)

// echoURLVar is the variable that names the built-in echo backend in configs.
const echoURLVar = "PINPOINT_ECHO_URL"

// quickstartKey is the demo API key of examples/quickstart.yaml (which
// holds only its SHA-256). It is public: it only opens the quickstart.
const quickstartKey = "pp_live_demo0000demo_QuickstartDemoKeyNotASecret00001"

type serveOptions struct {
	configFile string
	dataDir    string
	store      string
	logFormat  string
	logLevel   string
	nodeID     string
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Long: `Run the gateway: the proxy listeners, the admin API and the call log.

With --config FILE the file owns the configuration: it is applied at start,
re-applied when it changes or on SIGHUP, and admin-API applies are refused.
An invalid file is rejected whole and the running revision keeps serving.

Without --config the gateway serves the newest revision in its store, or, on
a fresh store, the built-in quickstart: a demo route to an echo backend the
binary serves on loopback.

State lives in --data-dir: the SQLite store and the admin token. With
--store postgres://… (or $PINPOINT_STORE) revisions, consumers, keys, the
call log, quotas and idempotency keys go to PostgreSQL instead, so several
nodes can share them; the admin token file stays in --data-dir. Each node
then follows the others: a revision applied on any node is served by all,
and a key revoked or a consumer suspended on one is refused by all, within
moments (PostgreSQL notifications, with a poll every second as a fallback).
--node-id names the node in the banner and its logs. The admin token is
generated at first start and written to DATA_DIR/admin-token (mode 0600);
set PINPOINT_ADMIN_TOKEN to supply your own.

SIGTERM or SIGINT drains: readiness turns false, listeners stop accepting,
and in-flight requests get gateway.shutdown_timeout to finish.`,
		Example: `  # Quickstart with the built-in demo config
  pinpoint serve

  # Serve a config file, reloading it on change
  pinpoint serve --config examples/quickstart.yaml --data-dir /var/lib/pinpoint

  # JSON logs for a log shipper
  pinpoint serve --config gateway.yaml --log-format json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return runServe(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "configuration file that owns the configuration (applied at start and on change)")
	f.StringVar(&o.dataDir, "data-dir", "pinpoint-data", "directory for the SQLite store and the admin token")
	f.StringVar(&o.store, "store", "", "postgres:// URL or SQLite file (env "+envStore+"; default DATA_DIR/pinpoint.db)")
	f.StringVar(&o.logFormat, "log-format", "text", "server log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "server log level: debug, info, warn or error")
	f.StringVar(&o.nodeID, "node-id", "", "name of this node in the banner and logs (default: the host name)")
	return cmd
}

func runServe(ctx context.Context, o serveOptions, stdout, stderr io.Writer) error {
	log, err := newLogger(o, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	loc, err := storeLocation(o.store, o.dataDir)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, loc)
	if err != nil {
		return storeError(loc, err)
	}
	defer st.Close()
	node := nodeName(o.nodeID)
	_, shared := st.(store.Notifier)
	if shared {
		log = log.With("node", node)
	}

	auditLog := newAuditRecorder(st, log)
	token, created, err := admin.EnsureToken(ctx, st, auditLog, o.dataDir, os.Getenv("PINPOINT_ADMIN_TOKEN"))
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}

	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBG()
	metrics := telemetry.New()
	metrics.Registry.MustRegister(auditLog.Collectors()...)
	// Run-time tenants, consumers and keys are loaded before the first
	// revision compiles, so a revision that would shadow one is refused.
	live := identity.NewRegistry()
	rollups := newAnalytics(st, node, log, metrics.Registry)
	aiMeter, aiUsage := startAIUsage(ctx, st, log)
	ai.RegisterRecorder(metrics.Registry, aiUsage)
	g := gateway.New(gateway.Options{
		Store: st, Metrics: metrics, Logger: log, ConfigFile: o.configFile,
		LookupEnv: echoLookup(bg, log), Identities: live, Audit: auditLog,
		Analytics: rollups, Version: version, AIMeter: aiMeter, AIUsage: aiUsage,
	})
	aiUsage.SetRetention(func() time.Duration {
		if s := g.Current(); s != nil {
			return s.Config.AI.Usage.Retention.Or(ai.DefaultUsageRetention)
		}
		return ai.DefaultUsageRetention
	})
	defer g.Close()
	ids := &identity.Service{
		Store: st, Live: live, Log: log, Audit: auditLog, Revision: g.Revision,
		Declared: func() *identity.Declared {
			if s := g.Current(); s != nil {
				return s.Directory().Declared
			}
			return nil
		},
		Env: func() string {
			if s := g.Current(); s != nil {
				return s.Config.Gateway.Environment
			}
			return "live"
		},
	}
	if err := ids.Load(ctx); err != nil {
		return fmt.Errorf("loading consumers and keys: %w", err)
	}
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		ids.RunFlusher(bg, 30*time.Second)
	}()
	expiries := make(chan struct{})
	go func() {
		defer close(expiries)
		ids.RunExpiryWatcher(bg, identity.DefaultExpiryInterval)
	}()
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		g.RunSweeper(bg)
	}()
	defer func() { cancelBG(); <-flushed; <-swept; <-expiries }()

	if err := g.LoadTokenKeys(ctx); err != nil {
		return fmt.Errorf("decision-token keys: %w", err)
	}
	source, err := loadInitial(ctx, g, o, log)
	if err != nil {
		return err
	}
	cfg := g.Current().Config
	stopAnalytics := startAnalytics(bg, rollups, st, g, log)
	defer startAlerts(bg, g, st, metrics.Registry, node, log)()
	// With a shared store, follow what the other nodes commit.
	followed := make(chan struct{})
	if shared {
		go func() {
			defer close(followed)
			g.Follow(bg, gateway.DefaultFollowPoll)
		}()
	} else {
		close(followed)
	}
	defer func() { cancelBG(); <-followed }()

	calls := calllog.New(st, calllog.Options{
		Buffer:    cfg.Gateway.CallLog.BufferSize,
		Retention: cfg.Gateway.CallLog.Retention.D(),
		MaxRows:   cfg.Gateway.CallLog.MaxRows,
		Logger:    log,
	})
	metrics.RegisterCallLog(calls)
	g.SetCallLog(calls)

	adminHandler := admin.NewHandler(admin.Options{
		Control: g, Store: st, Metrics: metrics.Handler(), Logger: log,
		Version: version, ConfigFile: o.configFile, Identities: ids,
		Quotas: g, Stats: &analytics.Reader{Store: st},
	})
	srv, err := gateway.Listen(cfg.Listeners, g, adminHandler, log)
	if err != nil {
		return err
	}
	srv.Serve()
	g.SetListening(true)
	printBanner(stdout, srv, cfg, source, g.Revision(), o.dataDir, describeStore(loc), node, token, created)

	if o.configFile != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			if err := g.WatchFile(bg, o.configFile, hup); err != nil {
				log.Error("config file watch stopped; SIGHUP still reloads", "error", err)
			}
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight requests", "timeout", cfg.Gateway.ShutdownTimeout.Or(15*time.Second).String())
	case serveErr = <-srv.Errors():
		log.Error("listener failed; shutting down", "error", serveErr)
	}
	g.Drain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.Current().Config.Gateway.ShutdownTimeout.Or(15*time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown deadline passed; remaining connections closed", "error", err)
	}
	stopAnalytics(sctx)
	if err := calls.Close(sctx); err != nil {
		log.Warn("call log not fully flushed", "error", err)
	}
	aiUsage.Close()
	log.Info("stopped")
	return serveErr
}

// loadInitial publishes the first revision: the config file, else the
// newest stored revision, else the quickstart.
func loadInitial(ctx context.Context, g *gateway.Gateway, o serveOptions, log *slog.Logger) (string, error) {
	rev, latestErr := g.LoadLatest(ctx)
	if latestErr != nil && !errors.Is(latestErr, store.ErrNotFound) {
		log.Error("newest stored revision cannot be served", "revision", rev.Number, "error", latestErr)
	}
	if o.configFile != "" {
		_, err := g.ApplyFile(ctx, o.configFile)
		if err == nil {
			return "file " + o.configFile, nil
		}
		if g.Current() == nil {
			return "", fmt.Errorf("%s rejected:\n%w", o.configFile, err)
		}
		log.Error("config file rejected at start; serving the newest stored revision", "revision", g.Revision())
		return fmt.Sprintf("stored revision %d (%s was rejected)", g.Revision(), o.configFile), nil
	}
	if g.Current() != nil {
		return "stored revision", nil
	}
	_, err := g.Apply(ctx, admin.ApplyRequest{
		Filename: "quickstart.yaml", Document: examples.Quickstart, Author: "pinpoint", Source: "quickstart",
	})
	if err != nil {
		return "", fmt.Errorf("quickstart config: %w", err)
	}
	return "built-in quickstart", nil
}

// echoLookup resolves ${ENV} references, starting the built-in echo backend
// the first time a configuration refers to ${PINPOINT_ECHO_URL}.
func echoLookup(ctx context.Context, log *slog.Logger) func(string) (string, bool) {
	var once sync.Once
	var url string
	return func(name string) (string, bool) {
		if name != echoURLVar {
			return os.LookupEnv(name)
		}
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		once.Do(func() {
			u, err := echo.Start(ctx)
			if err != nil {
				log.Error("echo backend did not start", "error", err)
				return
			}
			url = u
			log.Info("built-in echo backend listening", "url", u)
		})
		return url, url != ""
	}
}

func newLogger(o serveOptions, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", o.logFormat)
}

// nodeName is --node-id, or else the host name.
func nodeName(flag string) string {
	if flag != "" {
		return flag
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "pinpoint"
}

func printBanner(w io.Writer, srv *gateway.Server, cfg *config.Config, source string, rev int64, dataDir, storeDesc, node, token string, created bool) {
	proxy, adminAddr := "", ""
	for _, l := range cfg.Listeners {
		if l.Kind == "admin" && adminAddr == "" {
			adminAddr = srv.Addr(l.Name)
		}
		if l.Kind == "proxy" && proxy == "" {
			proxy = srv.Addr(l.Name)
			if l.TLS != nil {
				proxy = "https://" + proxy
			} else {
				proxy = "http://" + proxy
			}
		}
	}
	fmt.Fprintf(w, "\nPinpoint %s serving revision %d (%s)\n", version, rev, source)
	fmt.Fprintf(w, "  proxy   %s\n", proxy)
	switch {
	case os.Getenv("PINPOINT_ADMIN_TOKEN") != "":
		fmt.Fprintf(w, "  admin   http://%s  (bearer token: $PINPOINT_ADMIN_TOKEN)\n", adminAddr)
	case token == "":
		// The store already holds tokens (another node made one) and this
		// node has no file and no $PINPOINT_ADMIN_TOKEN.
		fmt.Fprintf(w, "  admin   http://%s  (use a token the store already knows: $PINPOINT_ADMIN_TOKEN, or another node's admin-token file)\n", adminAddr)
	default:
		fmt.Fprintf(w, "  admin   http://%s  (bearer token in %s)\n", adminAddr, filepath.Join(dataDir, "admin-token"))
	}
	fmt.Fprintf(w, "  store   %s\n", storeDesc)
	fmt.Fprintf(w, "  node    %s\n", node)
	switch {
	case created && isTerminal(w):
		fmt.Fprintf(w, "  a new admin token was generated; it is stored only as a hash and in that file:\n    %s\n", token)
	case created:
		// Not a terminal: stdout may be collected into logs, where a secret
		// must never go. The file holds it.
		fmt.Fprintf(w, "  a new admin token was generated; read it from that file\n")
	}
	if source == "built-in quickstart" {
		fmt.Fprintf(w, "\nTry it:\n")
		fmt.Fprintf(w, "  curl -i %s/hello       # 200 from the built-in echo backend\n", proxy)
		fmt.Fprintf(w, "  curl -i %s/nope        # 404 route.not_found, explained as problem+json\n", proxy)
		fmt.Fprintf(w, "  curl -i %s/broken/x    # 502 upstream.connect_failed, explained\n", proxy)
		fmt.Fprintf(w, "  curl -i %s/orders      # 401 authn.credential_missing: this route needs an API key\n", proxy)
		fmt.Fprintf(w, "  curl -i -H 'X-API-Key: %s' %s/orders           # 200\n", quickstartKey, proxy)
		fmt.Fprintf(w, "  curl -i -H 'X-API-Key: %s' -X POST %s/orders   # 403 authz.scope_missing\n", quickstartKey, proxy)
		fmt.Fprintf(w, "  curl -i '%s/search?file=../../etc/passwd'   # 403 waf.blocked: the WAF (OWASP CRS) saw a path traversal\n", proxy)
		fmt.Fprintf(w, "  go run ./cmd/pinpoint logs --status 4xx\n")
	}
	fmt.Fprintln(w)
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
