package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
)

// Learner tells whether this member is a learner.
type Learner interface {
	IsLearner() bool
}

// learnerAllowed reports whether a learner serves req: only Status and
// serializable ranges, as etcd.
func learnerAllowed(req any) bool {
	switch r := req.(type) {
	case *pb.StatusRequest:
		return true
	case *pb.RangeRequest:
		return r.Serializable
	}
	return false
}

// learnerUnaryInterceptor refuses what a learner must not serve.
func learnerUnaryInterceptor(l Learner) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if l.IsLearner() && !learnerAllowed(req) && isClientService(info.FullMethod) {
			return nil, rpctypes.ErrGRPCNotSupportedForLearner
		}
		return handler(ctx, req)
	}
}

// learnerStreamInterceptor refuses every client stream on a learner.
func learnerStreamInterceptor(l Learner) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if l.IsLearner() && isClientService(info.FullMethod) {
			return rpctypes.ErrGRPCNotSupportedForLearner
		}
		return handler(srv, ss)
	}
}

// isClientService reports whether method belongs to etcd's client services
// (the health service stays available).
func isClientService(method string) bool {
	return len(method) > len("/etcdserverpb.") && method[:len("/etcdserverpb.")] == "/etcdserverpb."
}
