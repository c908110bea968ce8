package v3rpc

import (
	"math"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
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
}

// grpcOverheadBytes is the allowance over --max-request-bytes for gRPC
// framing, so a request just under the limit still arrives and gets etcd's
// "request is too large" instead of a transport error.
const grpcOverheadBytes = 512 * 1024

// NewServer builds a gRPC server with every v3 service registered and the
// standard health service reporting SERVING.
func NewServer(be Backend, cfg Config, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	opts = append(opts,
		grpc.ChainUnaryInterceptor(learnerUnaryInterceptor(be)),
		grpc.ChainStreamInterceptor(learnerStreamInterceptor(be)),
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes+grpcOverheadBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(math.MaxUint32),
	)
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
