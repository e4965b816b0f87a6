// Package rawhttp is the load generators' HTTP/1.1 client: one keep-alive
// connection that writes a prebuilt request and reads each reply whole,
// with none of net/http's client machinery between the load and the
// target, plus the nearest-rank percentile the generators report.
package rawhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Conn sends one fixed request over one keep-alive connection, dialling
// again when the previous one was closed. It is not safe for concurrent use.
type Conn struct {
	addr    string
	request []byte
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
}

// New returns a Conn to target's host that sends request (a whole
// HTTP/1.1 request, headers and body) and gives each exchange timeout.
func New(target *url.URL, request []byte, timeout time.Duration) *Conn {
	addr := target.Host
	if target.Port() == "" {
		addr = net.JoinHostPort(target.Hostname(), "80")
	}
	return &Conn{addr: addr, request: request, timeout: timeout}
}

// Do sends the request, connecting first if needed, and reads the reply:
// read (when not nil) gets it first, then the rest of the body is
// discarded so that the connection can carry the next request. The
// connection is closed on any error and when the reply asks for it.
func (c *Conn) Do(read func(*http.Response) error) (status int, err error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, err
		}
		c.conn = conn
		c.br = bufio.NewReader(conn)
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		c.Close()
		return 0, err
	}
	if _, err := c.conn.Write(c.request); err != nil {
		c.Close()
		return 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.Close()
		return 0, err
	}
	if read != nil {
		err = read(resp)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil || resp.Close {
		c.Close()
	}
	return resp.StatusCode, err
}

// Close closes the connection, if one is open.
func (c *Conn) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, or 0 when it is empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
