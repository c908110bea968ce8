package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// KVBackend executes validated KV requests. Responses carry the revision in
// their header; the handler fills in the rest. A Range response may hold its
// KeyValues already encoded (mvcc.RangeWire), which the service's codec
// sends as they are.
type KVBackend interface {
	Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error)
	Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error)
	DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error)
	Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error)
	Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error)
}

// Header fills the member-wide fields of response headers.
type Header interface {
	// FillHeader sets cluster_id, member_id and raft_term, and the revision
	// when it is still 0.
	FillHeader(h *pb.ResponseHeader)
}

// KVServer is the etcdserverpb.KV service.
type KVServer struct {
	pb.UnimplementedKVServer
	be        KVBackend
	hdr       Header
	maxTxnOps int
}

// NewKVServer serves be. maxTxnOps is --max-txn-ops.
func NewKVServer(be KVBackend, hdr Header, maxTxnOps int) *KVServer {
	return &KVServer{be: be, hdr: hdr, maxTxnOps: maxTxnOps}
}

func (s *KVServer) header(h **pb.ResponseHeader) {
	if *h == nil {
		*h = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(*h)
}

// Range implements etcdserverpb.KVServer.
func (s *KVServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	resp, err := s.be.Range(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.header(&resp.Header)
	return resp, nil
}

// Put implements etcdserverpb.KVServer.
func (s *KVServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := checkPut(r); err != nil {
		return nil, err
	}
	resp, err := s.be.Put(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.header(&resp.Header)
	return resp, nil
}

// DeleteRange implements etcdserverpb.KVServer.
func (s *KVServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := checkDelete(r); err != nil {
		return nil, err
	}
	resp, err := s.be.DeleteRange(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.header(&resp.Header)
	return resp, nil
}

// Txn implements etcdserverpb.KVServer.
func (s *KVServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := checkTxn(r, s.maxTxnOps); err != nil {
		return nil, err
	}
	if _, _, err := checkTxnIntervals(r.Success); err != nil {
		return nil, err
	}
	if _, _, err := checkTxnIntervals(r.Failure); err != nil {
		return nil, err
	}
	resp, err := s.be.Txn(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.header(&resp.Header)
	return resp, nil
}

// Compact implements etcdserverpb.KVServer.
func (s *KVServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := s.be.Compact(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.header(&resp.Header)
	return resp, nil
}

func checkRange(r *pb.RangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if _, ok := pb.RangeRequest_SortOrder_name[int32(r.SortOrder)]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(r.SortTarget)]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	return nil
}

func checkPut(r *pb.PutRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if r.IgnoreValue && len(r.Value) != 0 {
		return rpctypes.ErrGRPCValueProvided
	}
	if r.IgnoreLease && r.Lease != 0 {
		return rpctypes.ErrGRPCLeaseProvided
	}
	return nil
}

func checkDelete(r *pb.DeleteRangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

// checkTxn bounds the operation count (a nested transaction gets what its
// parent left of the budget) and validates every operation.
func checkTxn(r *pb.TxnRequest, maxTxnOps int) error {
	ops := max(len(r.Compare), len(r.Success), len(r.Failure))
	if ops > maxTxnOps {
		return rpctypes.ErrGRPCTooManyOps
	}
	for _, c := range r.Compare {
		if len(c.Key) == 0 {
			return rpctypes.ErrGRPCEmptyKey
		}
	}
	for _, branch := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range branch {
			if err := checkOp(op, maxTxnOps-ops); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkOp(op *pb.RequestOp, maxTxnOps int) error {
	switch r := op.GetRequest().(type) {
	case *pb.RequestOp_RequestRange:
		return checkRange(orEmpty(r.RequestRange))
	case *pb.RequestOp_RequestPut:
		return checkPut(orEmptyPut(r.RequestPut))
	case *pb.RequestOp_RequestDeleteRange:
		return checkDelete(orEmptyDelete(r.RequestDeleteRange))
	case *pb.RequestOp_RequestTxn:
		if r.RequestTxn == nil {
			return nil
		}
		return checkTxn(r.RequestTxn, maxTxnOps)
	}
	// An op without a request.
	return rpctypes.ErrGRPCKeyNotFound
}

func orEmpty(r *pb.RangeRequest) *pb.RangeRequest {
	if r == nil {
		return &pb.RangeRequest{}
	}
	return r
}

func orEmptyPut(r *pb.PutRequest) *pb.PutRequest {
	if r == nil {
		return &pb.PutRequest{}
	}
	return r
}

func orEmptyDelete(r *pb.DeleteRangeRequest) *pb.DeleteRangeRequest {
	if r == nil {
		return &pb.DeleteRangeRequest{}
	}
	return r
}
