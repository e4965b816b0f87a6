package postgres

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// idlePing is how long a connection may sit idle before it is pinged on
// acquire anyway (pgxpool's own default).
const idlePing = time.Second

// lossWatch keeps the first statement after a database outage from running
// on a pooled connection the outage killed ("unexpected EOF"). pgxpool pings
// only connections idle for more than a second; a connection released a
// moment before the database went away would be handed out unchecked.
// lossWatch remembers when a connection was last lost (a read or write on
// it failed, or a dial failed) and has every connection that has been idle
// since then pinged before use; a dead one is replaced by a fresh
// connection. In normal operation nothing is lost and no extra round trip
// is made.
//
// Retrying failed statements instead would need to know, call by call,
// whether a statement could have run; checking the connection before the
// first statement is safe for reads, writes and transactions alike.
type lossWatch struct {
	last atomic.Int64 // UnixNano of the last loss; 0: none
}

func (l *lossWatch) lost() { l.last.Store(time.Now().UnixNano()) }

// install chains lossWatch's hooks in front of those cfg already has: every
// connection's reads and writes report a broken connection at once (the pool
// destroys a failed connection asynchronously, too late for the next
// acquire), and so does a failed dial.
func (l *lossWatch) install(cfg *pgxpool.Config) {
	shouldPing := cfg.ShouldPing
	if shouldPing == nil {
		shouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > idlePing }
	}
	cfg.ShouldPing = func(ctx context.Context, p pgxpool.ShouldPingParams) bool {
		if shouldPing(ctx, p) {
			return true
		}
		last := l.last.Load()
		return last != 0 && time.Now().Add(-p.IdleDuration).UnixNano() <= last
	}
	dial := cfg.ConnConfig.DialFunc
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			l.lost()
			return nil, err
		}
		return &watchedConn{Conn: c, l: l}, nil
	}
}

// watchedConn reports to its lossWatch when a read or write fails for
// another reason than a deadline (pgconn uses deadlines to cancel queries)
// or the connection having been closed on this side.
type watchedConn struct {
	net.Conn
	l *lossWatch
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.check(err)
	}
	return n, err
}

func (c *watchedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.check(err)
	}
	return n, err
}

func (c *watchedConn) check(err error) {
	var ne net.Error
	if errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout() {
		return
	}
	c.l.lost()
}
