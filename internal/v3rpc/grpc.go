package v3rpc

import (
	"math"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/cairn-kv/cairn/internal/wirebuf"
)

// Backend is everything the services need from the member.
type Backend interface {
	KVBackend
	MaintenanceBackend
	ClusterBackend
	WatchBackend
	LeaseBackend
	AuthBackend
	Header
	Learner
}

// Config sizes the gRPC server.
type Config struct {
	// MaxRequestBytes is --max-request-bytes; the server accepts messages
	// up to it plus gRPC's overhead allowance, as etcd does.
	MaxRequestBytes int
	MaxTxnOps       int
	// MaxConcurrentStreams is --max-concurrent-streams, the HTTP/2 streams
	// one connection may have open at once (0: no limit).
	MaxConcurrentStreams uint32
	// KeepAliveMinTime is --grpc-keepalive-min-time: a client pinging more
	// often (or at all while it has no stream open) is sent away with
	// GOAWAY "too_many_pings". 0 keeps gRPC's default policy (5m).
	KeepAliveMinTime time.Duration
	// KeepAliveInterval and KeepAliveTimeout are --grpc-keepalive-interval
	// and --grpc-keepalive-timeout: after KeepAliveInterval without
	// activity the server pings, and closes the connection when no answer
	// comes within KeepAliveTimeout. They take effect only when both are
	// set, as in etcd; gRPC raises an interval under 1s to 1s.
	KeepAliveInterval time.Duration
	KeepAliveTimeout  time.Duration
	// ElectionTimeout paces the leader checks of require-leader streams
	// (0: 1s).
	ElectionTimeout time.Duration
	// Bytes, when set, counts the bytes of the messages exchanged with
	// clients.
	Bytes ByteCounter
}

// serverOptions are the transport options cfg selects.
func (cfg Config) serverOptions() []grpc.ServerOption {
	streams := cfg.MaxConcurrentStreams
	if streams == 0 {
		streams = math.MaxUint32
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes + grpcOverheadBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(streams),
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
	}
	if cfg.KeepAliveMinTime > 0 {
		opts = append(opts, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: cfg.KeepAliveMinTime}))
	}
	if cfg.KeepAliveInterval > 0 && cfg.KeepAliveTimeout > 0 {
		opts = append(opts, grpc.KeepaliveParams(keepalive.ServerParameters{Time: cfg.KeepAliveInterval, Timeout: cfg.KeepAliveTimeout}))
	}
	return opts
}

// Fixed flow-control windows. With gRPC's default (a 64 KiB window grown
// by bandwidth estimation) the server answers every data frame that follows
// an answered estimate with a window update and a ping, which the client
// must read and acknowledge: under a light load, a frame, a write and a
// wake-up on each side for every request. A stream window larger than the
// default request limit lets a whole request arrive without waiting for a
// window update.
const (
	streamWindowBytes = 2 << 20
	connWindowBytes   = 16 << 20
)

// grpcOverheadBytes is the allowance over --max-request-bytes for gRPC
// framing, so a request just under the limit still arrives and gets etcd's
// "request is too large" instead of a transport error.
const grpcOverheadBytes = 512 * 1024

// NewServer builds a gRPC server with every v3 service registered and the
// standard health service reporting SERVING.
func NewServer(be Backend, cfg Config, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	opts = append(opts,
		grpc.ChainUnaryInterceptor(learnerUnaryInterceptor(be), leaderUnaryInterceptor(be)),
		grpc.ChainStreamInterceptor(learnerStreamInterceptor(be), leaderStreamInterceptor(be, cfg.ElectionTimeout)),
	)
	opts = append(opts, cfg.serverOptions()...)
	opts = append(opts, grpc.ForceServerCodecV2(newCodec(cfg.Bytes)), experimental.BufferPool(wirebuf.Pool{}))
	gs := grpc.NewServer(opts...)
	pb.RegisterKVServer(gs, NewKVServer(be, be, cfg.MaxTxnOps))
	pb.RegisterMaintenanceServer(gs, NewMaintenanceServer(be, be))
	pb.RegisterClusterServer(gs, NewClusterServer(be, be))
	pb.RegisterWatchServer(gs, NewWatchServer(be, be, cfg.MaxRequestBytes))
	pb.RegisterLeaseServer(gs, NewLeaseServer(be, be))
	pb.RegisterAuthServer(gs, NewAuthServer(be, be))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	return gs, hs
}
