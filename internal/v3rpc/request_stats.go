package v3rpc

import (
	"context"
	"log/slog"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
)

// SlowRequestInterceptor logs "request stats" for unary requests, as etcd
// does: a warning for every request that took longer than threshold
// (--warning-unary-request-duration), and, when the logger is enabled at
// debug level, a debug line for every other request. The fields carry
// etcd's names so that log queries written for etcd keep matching. The
// values of puts are never logged, only their sizes.
func SlowRequestInterceptor(lg *slog.Logger, threshold time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		took := time.Since(start)
		level := slog.LevelWarn
		if took <= threshold {
			if !lg.Enabled(ctx, slog.LevelDebug) {
				return resp, err
			}
			level = slog.LevelDebug
		}
		remote := "No remote client info."
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			remote = p.Addr.String()
		}
		st := statsOf(req, resp)
		lg.Log(ctx, level, "request stats",
			"start time", start,
			"time spent", took,
			"remote", remote,
			"response type", info.FullMethod,
			"request count", st.reqCount,
			"request size", st.reqSize,
			"response count", st.respCount,
			"response size", st.respSize,
			"request content", st.content,
		)
		return resp, err
	}
}

// requestStats are the counts and sizes etcd logs for one request and its
// response.
type requestStats struct {
	reqCount, respCount int64
	reqSize, respSize   int
	content             string
}

// statsOf describes a KV request the way etcd does: a range counts the
// keys its response reports (count, not the keys returned), a put one key
// in and none out, a delete the keys deleted, a transaction the operations
// of the branch it took and their encoded size. Other requests are -1
// everywhere. The content of puts, also inside transactions, shows value
// sizes instead of values.
func statsOf(req, resp any) requestStats {
	switch resp := resp.(type) {
	case *pb.RangeResponse:
		var st requestStats
		if r, ok := req.(*pb.RangeRequest); ok {
			st.reqSize, st.content = proto.Size(r), r.String()
		}
		if resp != nil {
			st.respCount, st.respSize = resp.GetCount(), proto.Size(resp)
		}
		return st
	case *pb.PutResponse:
		var st requestStats
		if r, ok := req.(*pb.PutRequest); ok {
			st.reqCount, st.reqSize, st.content = 1, proto.Size(r), pb.NewLoggablePutRequest(r).String()
		}
		if resp != nil {
			st.respSize = proto.Size(resp)
		}
		return st
	case *pb.DeleteRangeResponse:
		var st requestStats
		if r, ok := req.(*pb.DeleteRangeRequest); ok {
			st.reqSize, st.content = proto.Size(r), r.String()
		}
		if resp != nil {
			st.respCount, st.respSize = resp.GetDeleted(), proto.Size(resp)
		}
		return st
	case *pb.TxnResponse:
		var st requestStats
		if r, ok := req.(*pb.TxnRequest); ok && resp != nil {
			ops := r.GetFailure()
			if resp.GetSucceeded() {
				ops = r.GetSuccess()
			}
			st.reqCount = int64(len(ops))
			for _, op := range ops {
				st.reqSize += proto.Size(op)
			}
			st.content = pb.NewLoggableTxnRequest(r).String()
		}
		if resp != nil {
			st.respSize = proto.Size(resp)
		}
		return st
	}
	return requestStats{reqCount: -1, reqSize: -1, respCount: -1, respSize: -1}
}
