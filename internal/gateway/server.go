package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Server runs a gateway's listeners.
type Server struct {
	log     *slog.Logger
	servers []*http.Server
	lns     []net.Listener
	names   []string
	errs    chan error
	wg      sync.WaitGroup
}

// Listen binds every listener (so a taken port fails start-up at once) and
// pairs proxy listeners with proxy and the admin listener with admin.
func Listen(listeners []config.Listener, proxy, admin http.Handler, log *slog.Logger) (*Server, error) {
	s := &Server{log: log, errs: make(chan error, len(listeners))}
	for _, l := range listeners {
		h := proxy
		if l.Kind == "admin" {
			h = admin
		}
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: l.ReadHeaderTimeout.Or(10 * time.Second),
			IdleTimeout:       l.IdleTimeout.Or(120 * time.Second),
			// Header size is enforced with a problem answer by the accept
			// stage; this bound only protects the parser itself.
			MaxHeaderBytes: 1 << 20,
			ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		ln, err := net.Listen("tcp", l.Address)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		if l.TLS != nil {
			cert, err := tls.LoadX509KeyPair(l.TLS.CertFile, l.TLS.KeyFile)
			if err != nil {
				ln.Close()
				s.closeListeners()
				return nil, fmt.Errorf("listener %s: %w", l.Name, err)
			}
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
			if f := l.TLS.ClientCAFile; f != "" {
				// Client certificates are optional at the TLS layer and
				// verified against these CAs when given; the mtls
				// authenticator decides per route whether one is required.
				pool, err := loadCertPool(f)
				if err != nil {
					ln.Close()
					s.closeListeners()
					return nil, fmt.Errorf("listener %s: client_ca_file: %w", l.Name, err)
				}
				srv.TLSConfig.ClientCAs = pool
				srv.TLSConfig.ClientAuth = tls.VerifyClientCertIfGiven
			}
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		s.servers = append(s.servers, srv)
		s.lns = append(s.lns, ln)
		s.names = append(s.names, l.Name)
	}
	return s, nil
}

// Addr returns the bound address of the named listener ("" if none).
func (s *Server) Addr(name string) string {
	for i, n := range s.names {
		if n == name {
			return s.lns[i].Addr().String()
		}
	}
	return ""
}

// Serve starts serving on every listener; errors arrive on Errors.
func (s *Server) Serve() {
	for i := range s.servers {
		s.wg.Add(1)
		go func(srv *http.Server, ln net.Listener) {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- err
			}
		}(s.servers[i], s.lns[i])
	}
}

// Errors delivers a listener's fatal error.
func (s *Server) Errors() <-chan error { return s.errs }

// Shutdown stops accepting, waits for in-flight requests until ctx ends,
// then closes what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, srv := range s.servers {
		wg.Add(1)
		go func(srv *http.Server) {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(srv)
	}
	wg.Wait()
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) closeListeners() {
	for _, ln := range s.lns {
		ln.Close()
	}
}

// loadCertPool reads a PEM bundle of CA certificates.
func loadCertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
