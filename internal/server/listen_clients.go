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

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/httpapi"
	"github.com/cairn-kv/cairn/internal/tlsutil"
	"github.com/cairn-kv/cairn/internal/v3lock"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// serveClients listens on every client URL. Without --listen-client-http-urls
// each port serves gRPC and HTTP: plain connections are split by their
// first bytes (the HTTP/2 preface means gRPC), TLS connections by request
// (HTTP/2 with a gRPC content type goes to gRPC). With it, as in etcd, the
// client URLs serve gRPC alone and the HTTP endpoints move to the HTTP URLs.
// The JSON gateway reaches the gRPC services through an in-process
// connection.
func (s *Server) serveClients() error {
	s.grpc, s.health = v3rpc.NewServer(s, v3rpc.Config{
		MaxRequestBytes:      int(s.cfg.MaxRequestBytes),
		MaxTxnOps:            int(s.cfg.MaxTxnOps),
		MaxConcurrentStreams: s.cfg.MaxConcurrentStreams,
		KeepAliveMinTime:     s.cfg.GRPCKeepAliveMinTime,
		KeepAliveInterval:    s.cfg.GRPCKeepAliveInterval,
		KeepAliveTimeout:     s.cfg.GRPCKeepAliveTimeout,
		ElectionTimeout:      s.cfg.ElectionTimeout,
		Bytes:                s.metrics.ClientBytes(),
	}, grpc.ChainUnaryInterceptor(
		v3rpc.SlowRequestInterceptor(s.lg.With("component", "grpc"), s.cfg.WarningUnaryRequestDuration),
		s.metrics.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.metrics.StreamInterceptor()),
		// Reused handler goroutines keep their grown stacks: a fresh
		// goroutine per request grows its stack again every time.
		grpc.NumStreamWorkers(uint32(4*runtime.GOMAXPROCS(0))))
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if err := s.serveSelf(); err != nil {
		return err
	}
	handler, err := s.clientHandler()
	if err != nil {
		return err
	}
	// Host names are checked only over plain HTTP: TLS proves them.
	plainHandler := httpapi.WithHostWhitelist(handler, s.cfg.HostWhitelist, s.lg.With("component", "http"))
	s.http = &http.Server{Handler: plainHandler, ReadHeaderTimeout: 10 * time.Second}
	var tlsCfg *tls.Config // built for the first https or unixs URL
	splitHTTP := len(s.cfg.ListenClientHTTPURLs) > 0
	for _, u := range s.cfg.ListenClientURLs {
		l, err := s.listenClient(u, &tlsCfg)
		if err != nil {
			return err
		}
		switch secure := isSecure(u); {
		case splitHTTP && secure:
			s.serveTLS(l, tlsCfg, s.grpc)
		case splitHTTP:
			s.wg.Add(1)
			go func() { defer s.wg.Done(); _ = s.grpc.Serve(l) }()
		case secure:
			s.serveTLS(l, tlsCfg, s.grpcOr(handler))
		default:
			mux := newPortMux(l)
			s.wg.Add(3)
			go func() { defer s.wg.Done(); mux.serve() }()
			go func() { defer s.wg.Done(); _ = s.grpc.Serve(mux.grpc) }()
			go func() { defer s.wg.Done(); _ = s.http.Serve(mux.http) }()
		}
	}
	for _, u := range s.cfg.ListenClientHTTPURLs {
		l, err := s.listenClient(u, &tlsCfg)
		if err != nil {
			return err
		}
		if isSecure(u) {
			s.serveTLS(l, tlsCfg, handler)
			continue
		}
		// As etcd's, the HTTP port hangs up on gRPC (HTTP/2) clients.
		mux := newPortMux(l)
		s.wg.Add(3)
		go func() { defer s.wg.Done(); mux.serve() }()
		go func() { defer s.wg.Done(); hangUp(mux.grpc) }()
		go func() { defer s.wg.Done(); _ = s.http.Serve(mux.http) }()
	}
	return nil
}

// checkClientURLs refuses, as etcd does before it opens anything, an
// address that is both a client URL (gRPC) and a client HTTP URL: one
// listener cannot serve gRPC only and HTTP only. URLs are compared by
// address, as etcd binds them (host:port, or the socket path).
func checkClientURLs(cfg *config.Config) error {
	grpcAddrs := map[string]bool{}
	for _, u := range cfg.ListenClientURLs {
		grpcAddrs[bindAddr(u)] = true
	}
	for _, u := range cfg.ListenClientHTTPURLs {
		if grpcAddrs[bindAddr(u)] {
			return fmt.Errorf("cannot bind both --listen-client-urls and --listen-client-http-urls on the same url %s", u.String())
		}
	}
	return nil
}

// bindAddr is the address a client URL binds: host:port, or for unix
// sockets the host and path.
func bindAddr(u url.URL) string {
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		return u.Host + u.Path
	}
	return u.Host
}

// hangUp closes every connection l accepts, until l closes.
func hangUp(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// clientHandler is the HTTP side of the client URLs: the endpoints of
// internal/httpapi, the JSON gateway unless --enable-grpc-gateway=false,
// the v2 API when enabled, all behind --cors.
func (s *Server) clientHandler() (http.Handler, error) {
	var gateway http.Handler
	if s.cfg.EnableGRPCGateway {
		var err error
		if gateway, err = s.startGateway(); err != nil {
			return nil, err
		}
	}
	pprof := s.cfg.EnablePprof || s.cfg.LogLevel == "debug"
	if pprof {
		s.lg.Info("pprof is enabled", "path", "/debug/pprof/")
	}
	h := httpapi.Handler(httpMember{s}, httpapi.Options{Pprof: pprof, Vars: true, Metrics: s.metrics.Handler(), Gateway: gateway,
		V2: s.v2Handler(), OnHealth: s.metrics.Health})
	return httpapi.WithCORS(h, s.cfg.CORS), nil
}

// isSecure reports whether client URL u serves TLS.
func isSecure(u url.URL) bool { return u.Scheme == "https" || u.Scheme == "unixs" }

// listenClient opens the listener of client URL u and records it. The
// client TLS settings are built into *tlsCfg on the first secure URL.
func (s *Server) listenClient(u url.URL, tlsCfg **tls.Config) (net.Listener, error) {
	if isSecure(u) && *tlsCfg == nil {
		cfg, err := tlsutil.ServerConfig(s.cfg.ClientTLSInfo(), s.lg.With("component", "tls"))
		if err != nil {
			return nil, err
		}
		cfg.NextProtos = []string{"h2", "http/1.1"}
		*tlsCfg = cfg
	}
	l, err := s.listenURL(u)
	if err != nil {
		return nil, err
	}
	s.listeners = append(s.listeners, l)
	s.clientURL = append(s.clientURL, u.String())
	return l, nil
}

// grpcOr sends gRPC requests (HTTP/2 with a gRPC content type) to the gRPC
// server and the others to h.
func (s *Server) grpcOr(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			s.grpc.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveTLS serves h over TLS on l.
func (s *Server) serveTLS(l net.Listener, cfg *tls.Config, h http.Handler) {
	hs := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: tlsutil.ErrorLog(s.lg.With("component", "tls"))}
	s.tlsHTTP = append(s.tlsHTTP, hs)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = hs.Serve(tls.NewListener(l, cfg)) }()
}

// serveSelf serves the gRPC services on in-process listeners and opens
// the member's connections to itself: the JSON gateway and the lock and
// election services are its clients, so they need neither the network nor
// client certificates. The lock and election services get a connection of
// their own, the only one on which the server takes a caller's certificate
// name from metadata (see lockCallerCN). The services that use them are
// registered here, before the server starts serving.
func (s *Server) serveSelf() error {
	gateway, inner := bufconn.Listen(1<<20), bufconn.Listen(1<<20)
	var err error
	if s.selfConn, err = dialSelf(gateway); err != nil {
		return err
	}
	if s.innerConn, err = dialSelf(inner); err != nil {
		return err
	}
	v3lock.Register(s.grpc, s.innerConn)
	for _, l := range []net.Listener{gateway, innerListener{inner}} {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = s.grpc.Serve(l) }()
	}
	return nil
}

// dialSelf connects to the gRPC services served on lis.
func dialSelf(lis *bufconn.Listener) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///self",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<31-1)))
}

// innerAddr is the remote address of connections from the lock and
// election services: no connection from the network has it.
type innerAddr struct{}

func (innerAddr) Network() string { return "inner" }
func (innerAddr) String() string  { return "lock-and-election" }

type innerListener struct{ net.Listener }

func (l innerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return innerConn{c}, nil
}

type innerConn struct{ net.Conn }

func (innerConn) RemoteAddr() net.Addr { return innerAddr{} }

// startGateway builds the JSON gateway over the member's connection to
// itself.
func (s *Server) startGateway() (http.Handler, error) {
	return httpapi.Gateway(context.Background(), s.selfConn, v3lock.RegisterGateway)
}
