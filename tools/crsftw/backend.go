package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	albedo "github.com/coreruleset/albedo/server"
)

// backend is albedo, the CRS project's test backend, served in this
// process on a loopback port: it answers 200 to everything and reflects
// what /reflect asks for, which is what the corpus expects behind the WAF.
type backend struct {
	srv  *http.Server
	addr string
	done chan error
}

// startBackend serves albedo on 127.0.0.1 on a free port. Albedo logs every
// request through slog's default logger; that goes to log (nil: nowhere).
func startBackend(log io.Writer) (*backend, error) {
	if log == nil {
		log = io.Discard
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(log, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{
		srv:  &http.Server{Handler: albedo.Handler(), ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { b.done <- b.srv.Serve(ln) }()
	return b, nil
}

// URL is the backend's base URL.
func (b *backend) URL() string { return "http://" + b.addr }

// stop shuts the backend down.
func (b *backend) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if serveErr := <-b.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
