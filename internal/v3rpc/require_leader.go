package v3rpc

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
)

// LeaderChecker reports whether raft knows a leader.
type LeaderChecker interface {
	HasLeader() bool
}

// maxNoLeaderChecks is how many consecutive checks, one per election
// timeout, must find no leader before require-leader streams are ended:
// reconnecting a stream costs more than refusing a new one, so etcd waits
// this long, and so does Cairn.
const maxNoLeaderChecks = 3

// errLeaderLost is the cause a require-leader stream's context is
// canceled with.
var errLeaderLost = errors.New("v3rpc: no leader for too long")

// leaderStreamInterceptor serves the client streams that asked for a leader
// (clientv3.WithRequireLeader: metadata hasleader=true). Such a stream is
// refused with etcd's "no leader" error when the member knows no leader,
// and ended with it once the member has seen no leader for
// maxNoLeaderChecks election timeouts in a row, so that a client on a cut
// off member (kube-apiserver's watches) moves to one that still hears the
// cluster instead of waiting for events that do not come.
func leaderStreamInterceptor(l LeaderChecker, electionTimeout time.Duration) grpc.StreamServerInterceptor {
	if electionTimeout <= 0 {
		electionTimeout = time.Second
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !isClientService(info.FullMethod) || !requireLeader(ss.Context()) {
			return handler(srv, ss)
		}
		if !l.HasLeader() {
			return rpctypes.ErrGRPCNoLeader
		}
		ctx, cancel := context.WithCancelCause(ss.Context())
		defer cancel(nil)
		go monitorLeader(ctx, l, electionTimeout, cancel)
		err := handler(srv, ctxStream{ServerStream: ss, ctx: ctx})
		if errors.Is(context.Cause(ctx), errLeaderLost) {
			return rpctypes.ErrGRPCNoLeader
		}
		return err
	}
}

// monitorLeader checks for a leader once per interval until ctx ends, and
// cancels it after maxNoLeaderChecks checks in a row found none.
func monitorLeader(ctx context.Context, l LeaderChecker, interval time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l.HasLeader() {
			missed = 0
			continue
		}
		if missed++; missed >= maxNoLeaderChecks {
			cancel(errLeaderLost)
			return
		}
	}
}

// ctxStream is a server stream with its own context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s ctxStream) Context() context.Context { return s.ctx }

// leaderUnaryInterceptor refuses, with etcd's "no leader" error, requests
// that asked for a leader while the member knows none (a serializable read
// would otherwise answer from a member cut off from the cluster).
func leaderUnaryInterceptor(l LeaderChecker) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if isClientService(info.FullMethod) && requireLeader(ctx) && !l.HasLeader() {
			return nil, rpctypes.ErrGRPCNoLeader
		}
		return handler(ctx, req)
	}
}
