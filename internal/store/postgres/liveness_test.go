package postgres

import (
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// After the database comes back, the first call succeeds even though the
// pool still holds a connection the outage closed.
func TestFirstCallAfterAnOutageSucceeds(t *testing.T) {
	dsn := schemaDSN(t)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startCutProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	host, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(n)
	cfg.ConnConfig.Fallbacks = nil
	s, err := OpenConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	// Two idle connections: the outage closes both, a call during it
	// finds out about one, the call after it would get the other.
	ctx := t.Context()
	a, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Release()
	b.Release()
	read := func() error {
		_, err := s.QueryCalls(ctx, store.CallQuery{Limit: 1})
		return err
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}

	p.cut()
	if err := read(); err == nil {
		t.Fatal("a read during the outage succeeded")
	}
	p.restore()
	if err := read(); err != nil {
		t.Fatalf("first read after the outage: %v", err)
	}
	if err := s.InsertCalls(ctx, []store.Call{{RequestID: "after-outage", Route: "r", Method: "GET", Path: "/", Status: 200}}); err != nil {
		t.Fatalf("first write after the outage: %v", err)
	}
}
