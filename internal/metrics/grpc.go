package metrics

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcMetrics are the grpc_server_* series etcd exports (the names of the
// go-grpc-prometheus interceptors that operators' dashboards use).
type grpcMetrics struct {
	started  *prometheus.CounterVec
	handled  *prometheus.CounterVec
	received *prometheus.CounterVec
	sent     *prometheus.CounterVec
	latency  *prometheus.HistogramVec // nil unless --metrics extensive
	// clientRequests is etcd_server_client_requests_total: requests by
	// kind (unary, stream) and the client's API version.
	clientRequests *prometheus.CounterVec
	// unaryByVersion and streamByVersion cache clientRequests' series, one map per
	// request kind, keyed by the client's API version.
	unaryByVersion, streamByVersion sync.Map
	// unaryByMethod caches each unary method's series (*unarySeries).
	unaryByMethod sync.Map
}

func newGRPCMetrics(reg *prometheus.Registry, extensive bool) *grpcMetrics {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	g := &grpcMetrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server."}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure."}, append(labels, "grpc_code")),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_msg_received_total",
			Help: "Total number of RPC stream messages received on the server."}, labels),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_msg_sent_total",
			Help: "Total number of gRPC stream messages sent by the server."}, labels),
	}
	g.clientRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "server", Name: "client_requests_total",
		Help: "The total number of client requests per client version."}, []string{"type", "client_api_version"})
	reg.MustRegister(g.started, g.handled, g.received, g.sent, g.clientRequests)
	if extensive {
		g.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: prometheus.DefBuckets}, labels)
		reg.MustRegister(g.latency)
	}
	return g
}

func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// clientAPIVersion is the API version the client sent in its metadata
// (etcd's client sends its own version), or "unknown".
func clientAPIVersion(ctx context.Context) string {
	// One header's lookup: FromIncomingContext would copy every header.
	if v := metadata.ValueFromIncomingContext(ctx, "client-api-version"); len(v) > 0 {
		return v[0]
	}
	return "unknown"
}

// clientRequest counts a request of kind ("unary" or "stream") from a
// client of API version v. Looking a series up by its label values hashes
// them; this is on every request's path.
func (g *grpcMetrics) clientRequest(kind string, v string) {
	byVersion := &g.unaryByVersion
	if kind == "stream" {
		byVersion = &g.streamByVersion
	}
	c, ok := byVersion.Load(v)
	if !ok {
		c, _ = byVersion.LoadOrStore(v, g.clientRequests.WithLabelValues(kind, v))
	}
	c.(prometheus.Counter).Inc()
}

// unarySeries are one unary method's series, looked up once: finding a
// series by its label values hashes them, and a request touches five.
type unarySeries struct {
	started, received, sent prometheus.Counter
	latency                 prometheus.Observer // nil unless --metrics extensive
	handled                 sync.Map            // codes.Code -> prometheus.Counter
	handledVec              *prometheus.CounterVec
	service, method         string
}

func (u *unarySeries) handledCounter(code codes.Code) prometheus.Counter {
	if c, ok := u.handled.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c := u.handledVec.WithLabelValues("unary", u.service, u.method, code.String())
	u.handled.Store(code, c)
	return c
}

// unary returns the series of the unary method full (gRPC calls the
// interceptor only for registered methods, so the cache stays small).
func (g *grpcMetrics) unary(full string) *unarySeries {
	if u, ok := g.unaryByMethod.Load(full); ok {
		return u.(*unarySeries)
	}
	svc, meth := splitMethod(full)
	u := &unarySeries{
		started:    g.started.WithLabelValues("unary", svc, meth),
		received:   g.received.WithLabelValues("unary", svc, meth),
		sent:       g.sent.WithLabelValues("unary", svc, meth),
		handledVec: g.handled,
		service:    svc,
		method:     meth,
	}
	if g.latency != nil {
		u.latency = g.latency.WithLabelValues("unary", svc, meth)
	}
	actual, _ := g.unaryByMethod.LoadOrStore(full, u)
	return actual.(*unarySeries)
}

// UnaryInterceptor counts unary RPCs.
func (m *Metrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m == nil {
			return handler(ctx, req)
		}
		g := m.grpc
		u := g.unary(info.FullMethod)
		g.clientRequest("unary", clientAPIVersion(ctx))
		u.started.Inc()
		u.received.Inc()
		start := time.Now()
		resp, err := handler(ctx, req)
		u.handledCounter(status.Code(err)).Inc()
		if err == nil {
			u.sent.Inc()
		}
		if u.latency != nil {
			u.latency.Observe(time.Since(start).Seconds())
		}
		return resp, err
	}
}

// StreamInterceptor counts streaming RPCs and their messages.
func (m *Metrics) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if m == nil {
			return handler(srv, ss)
		}
		typ := "bidi_stream"
		switch {
		case info.IsClientStream && !info.IsServerStream:
			typ = "client_stream"
		case !info.IsClientStream && info.IsServerStream:
			typ = "server_stream"
		}
		svc, meth := splitMethod(info.FullMethod)
		g := m.grpc
		g.clientRequest("stream", clientAPIVersion(ss.Context()))
		g.started.WithLabelValues(typ, svc, meth).Inc()
		start := time.Now()
		err := handler(srv, &countingStream{ServerStream: ss,
			recv: g.received.WithLabelValues(typ, svc, meth), sent: g.sent.WithLabelValues(typ, svc, meth)})
		g.handled.WithLabelValues(typ, svc, meth, status.Code(err).String()).Inc()
		if g.latency != nil {
			g.latency.WithLabelValues(typ, svc, meth).Observe(time.Since(start).Seconds())
		}
		return err
	}
}

type countingStream struct {
	grpc.ServerStream
	recv, sent prometheus.Counter
}

func (s *countingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.sent.Inc()
	}
	return err
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.recv.Inc()
	}
	return err
}

// clientBytes counts the payload bytes of gRPC messages exchanged with
// clients (etcd_network_client_grpc_{sent,received}_bytes_total); the
// client server's codec reports them.
type clientBytes struct {
	sent, received prometheus.Counter
}

func newClientBytes(reg *prometheus.Registry) *clientBytes {
	c := &clientBytes{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "client_grpc_sent_bytes_total",
			Help: "The total number of bytes sent to grpc clients."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "client_grpc_received_bytes_total",
			Help: "The total number of bytes received from grpc clients."}),
	}
	reg.MustRegister(c.sent, c.received)
	return c
}

// Sent counts n bytes sent to a client.
func (c *clientBytes) Sent(n int) { c.sent.Add(float64(n)) }

// Received counts n bytes received from a client.
func (c *clientBytes) Received(n int) { c.received.Add(float64(n)) }

// ClientBytes returns the counter of client message bytes; nil on nil
// Metrics.
func (m *Metrics) ClientBytes() interface {
	Sent(n int)
	Received(n int)
} {
	if m == nil {
		return nil
	}
	return m.clientBytes
}
