package server

import (
	"context"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Range implements v3rpc.KVBackend: linearizable unless the client asked for
// a serializable read. A slow range is logged as etcd logs it, the wait for
// the read index included.
func (s *Server) Range(ctx context.Context, r *pb.RangeRequest) (resp *pb.RangeResponse, err error) {
	defer func(start time.Time) { s.slowReads.ReadOnlyRange(start, r, resp, err) }(time.Now())
	s.metrics.KV("range")
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkRange(info, r.Key, r.RangeEnd); err != nil {
		return nil, err
	}
	return s.localRange(ctx, r)
}

// localRange serves a range without checking permissions (the member's own
// probes).
func (s *Server) localRange(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if !r.Serializable {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	resp, err := s.kv.RangeWire(r)
	s.metrics.Range(err == nil, time.Since(start))
	return resp, err
}

// Put implements v3rpc.KVBackend.
func (s *Server) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	s.metrics.KV("put")
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkPut(info, r); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, putCost(r)); err != nil {
		return nil, err
	}
	resp, err := s.propose(ctx, withAuthHeader(&pb.InternalRaftRequest{Put: r}, info))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.PutResponse), nil
}

// DeleteRange implements v3rpc.KVBackend.
func (s *Server) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	s.metrics.KV("delete")
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkDelete(info, r); err != nil {
		return nil, err
	}
	resp, err := s.propose(ctx, withAuthHeader(&pb.InternalRaftRequest{DeleteRange: r}, info))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.DeleteRangeResponse), nil
}

// Txn implements v3rpc.KVBackend. A transaction whose every operation is a
// read runs locally, linearizable unless every read in it is serializable.
func (s *Server) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	s.metrics.KV("txn")
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkTxn(info, r); err != nil {
		return nil, err
	}
	if txnReadOnly(r) {
		return s.readOnlyTxn(ctx, r)
	}
	if err := s.checkQuota(ctx, txnCost(r)); err != nil {
		return nil, err
	}
	resp, err := s.propose(ctx, withAuthHeader(&pb.InternalRaftRequest{Txn: r}, info))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.TxnResponse), nil
}

// Compact implements v3rpc.KVBackend; with physical set it also waits until
// the old versions are gone.
func (s *Server) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	info, err := s.requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := s.propose(ctx, withAuthHeader(&pb.InternalRaftRequest{Compaction: r}, info))
	if err != nil {
		return nil, err
	}
	if r.Physical {
		if err := s.kv.WaitCompacted(ctx, r.Revision); err != nil {
			return nil, err
		}
	}
	return resp.(*pb.CompactionResponse), nil
}

// readOnlyTxn serves a transaction of reads locally.
func (s *Server) readOnlyTxn(ctx context.Context, r *pb.TxnRequest) (resp *pb.TxnResponse, err error) {
	defer func(start time.Time) { s.slowReads.ReadOnlyTxn(start, r, resp, err) }(time.Now())
	if !txnSerializable(r) {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	return s.kv.Txn(r)
}

func txnReadOnly(r *pb.TxnRequest) bool {
	for _, branch := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range branch {
			switch v := op.Request.(type) {
			case *pb.RequestOp_RequestRange:
			case *pb.RequestOp_RequestTxn:
				if v.RequestTxn != nil && !txnReadOnly(v.RequestTxn) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// txnSerializable reports whether every operation is a serializable range;
// a nested transaction makes the whole read linearizable.
func txnSerializable(r *pb.TxnRequest) bool {
	for _, branch := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range branch {
			rr := op.GetRequestRange()
			if rr == nil || !rr.Serializable {
				return false
			}
		}
	}
	return true
}
