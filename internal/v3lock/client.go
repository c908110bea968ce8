package v3lock

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/tlsutil"
)

// forwardedMetadata are the incoming metadata keys passed on to the inner
// calls: the caller's credentials and its require-leader flag.
var forwardedMetadata = []string{rpctypes.TokenFieldNameGRPC, "authorization", rpctypes.MetadataRequireLeaderKey}

// CallerCNKey carries, on the inner calls, the common name of the verified
// client certificate of a caller that sent no token: the inner connection
// has no certificate of its own. Register's caller must honour it only on
// requests that arrive over that connection, never from the network.
const CallerCNKey = "cairn-caller-cn"

// selfClient builds a client of the member's services over conn that acts
// for the caller of ctx. Its own context carries the caller's credentials
// but not ctx's cancellation, so the clean-ups the concurrency recipes run
// on failure (deleting a half-made lock key) still reach the member after
// the caller went away. The caller must Close it.
func selfClient(ctx context.Context, conn grpc.ClientConnInterface) (*clientv3.Client, context.Context) {
	out := metadata.MD{}
	if in, ok := metadata.FromIncomingContext(ctx); ok {
		for _, k := range forwardedMetadata {
			if v := in.Get(k); len(v) > 0 {
				out.Set(k, v...)
			}
		}
	}
	if len(out.Get(rpctypes.TokenFieldNameGRPC)) == 0 && len(out.Get("authorization")) == 0 {
		if cn := tlsutil.PeerCommonName(ctx); cn != "" {
			out.Set(CallerCNKey, cn)
		}
	}
	reqCtx := metadata.NewOutgoingContext(ctx, out)
	c := clientv3.NewCtxClient(metadata.NewOutgoingContext(context.WithoutCancel(ctx), out))
	c.KV = clientv3.NewKVFromKVClient(etcdserverpb.NewKVClient(conn), c)
	c.Lease = clientv3.NewLeaseFromLeaseClient(etcdserverpb.NewLeaseClient(conn), c, 0)
	c.Watcher = clientv3.NewWatchFromWatchClient(etcdserverpb.NewWatchClient(conn), c)
	return c, reqCtx
}

// grpcError turns an error of the inner client back into a gRPC status:
// the member's own errors keep their code and text (so clients rebuild
// the same typed errors), a finished context its code; others, such as
// the recipes' "election: not leader", go out as they are (code Unknown),
// as from etcd.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return status.Error(ee.Code(), ee.Error())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return err
}
