package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/cairn-kv/cairn/internal/httpapi"
	"github.com/cairn-kv/cairn/internal/tlsutil"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// serveClients listens on every client URL and serves gRPC and HTTP on each
// port: plain connections are split by their first bytes (the HTTP/2
// preface means gRPC), TLS connections by request (HTTP/2 with a gRPC
// content type goes to gRPC). The JSON gateway reaches the gRPC services
// through an in-process connection.
func (s *Server) serveClients() error {
	s.grpc, s.health = v3rpc.NewServer(s, v3rpc.Config{
		MaxRequestBytes: int(s.cfg.MaxRequestBytes),
		MaxTxnOps:       int(s.cfg.MaxTxnOps),
	}, grpc.ChainUnaryInterceptor(s.metrics.UnaryInterceptor()), grpc.ChainStreamInterceptor(s.metrics.StreamInterceptor()),
		// Reused handler goroutines keep their grown stacks: a fresh
		// goroutine per request grows its stack again every time.
		grpc.NumStreamWorkers(uint32(4*runtime.GOMAXPROCS(0))))
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	gateway, err := s.startGateway()
	if err != nil {
		return err
	}
	handler := httpapi.Handler(httpMember{s}, httpapi.Options{Pprof: s.cfg.EnablePprof, Metrics: s.metrics.Handler(), Gateway: gateway, V2: s.v2Handler()})
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	var tlsCfg *tls.Config
	for _, u := range s.cfg.ListenClientURLs {
		secure := u.Scheme == "https" || u.Scheme == "unixs"
		if secure && tlsCfg == nil {
			if tlsCfg, err = tlsutil.ServerConfig(s.cfg.ClientTLSInfo(), s.lg.With("component", "tls")); err != nil {
				return err
			}
			tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		}
		l, err := listen(u)
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, l)
		s.clientURL = append(s.clientURL, u.String())
		if secure {
			s.serveTLS(l, tlsCfg, handler)
			continue
		}
		mux := newPortMux(l)
		s.wg.Add(3)
		go func() { defer s.wg.Done(); mux.serve() }()
		go func() { defer s.wg.Done(); _ = s.grpc.Serve(mux.grpc) }()
		go func() { defer s.wg.Done(); _ = s.http.Serve(mux.http) }()
	}
	return nil
}

// listen opens a client listener for u: TCP for http(s), a socket file for
// unix(s) URLs.
func listen(u url.URL) (net.Listener, error) {
	network, addr := "tcp", u.Host
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		network, addr = "unix", u.Host+u.Path
	}
	switch u.Scheme {
	case "http", "https", "unix", "unixs":
	default:
		return nil, fmt.Errorf("listen on %s: unsupported scheme %q", u.String(), u.Scheme)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", u.String(), err)
	}
	return l, nil
}

// serveTLS serves gRPC and HTTP over TLS on l through one HTTP server.
func (s *Server) serveTLS(l net.Listener, cfg *tls.Config, handler http.Handler) {
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				s.grpc.ServeHTTP(w, r)
				return
			}
			handler.ServeHTTP(w, r)
		}),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	s.tlsHTTP = append(s.tlsHTTP, hs)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = hs.Serve(tls.NewListener(l, cfg)) }()
}

// startGateway serves the gRPC services on an in-process listener and
// builds the JSON gateway over a connection to it, so the gateway needs
// neither the network nor client certificates.
func (s *Server) startGateway() (http.Handler, error) {
	lis := bufconn.Listen(1 << 20)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = s.grpc.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<31-1)))
	if err != nil {
		return nil, err
	}
	s.gatewayConn = conn
	return httpapi.Gateway(context.Background(), conn)
}
