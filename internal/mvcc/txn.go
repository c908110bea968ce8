package mvcc

import (
	"bytes"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// txnView is what a transaction runs against: a write transaction, or the
// published state for read-only transactions.
type txnView interface {
	Range(*pb.RangeRequest) (*pb.RangeResponse, error)
	Put(*pb.PutRequest) (*pb.PutResponse, error)
	DeleteRange(*pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error)
	checkPut(*pb.PutRequest) error
	// get returns key's live version (nil if none), with its value only
	// when withValue is set.
	get(key []byte, withValue bool) (*mvccpb.KeyValue, error)
	view() *readView
	Rev() int64
}

// Txn executes a TxnRequest inside the write transaction with etcd's
// semantics: every compare (nested ones included) is evaluated first against
// the state before the transaction, every chosen operation is validated, and
// only then are the operations executed in order.
func (wt *WriteTxn) Txn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	return execTxn(wt, req)
}

var errReadOnlyTxn = errors.New("mvcc: write in a read-only transaction")

// readOnlyTxn runs transactions whose every operation is a range.
type readOnlyTxn struct{ v *readView }

func (t readOnlyTxn) Range(r *pb.RangeRequest) (*pb.RangeResponse, error) {
	return t.v.rangeRequest(r)
}
func (readOnlyTxn) Put(*pb.PutRequest) (*pb.PutResponse, error) { return nil, errReadOnlyTxn }
func (readOnlyTxn) DeleteRange(*pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	return nil, errReadOnlyTxn
}
func (readOnlyTxn) checkPut(*pb.PutRequest) error { return errReadOnlyTxn }
func (t readOnlyTxn) get(key []byte, withValue bool) (*mvccpb.KeyValue, error) {
	rr, err := t.v.rangeRequest(&pb.RangeRequest{Key: key, KeysOnly: !withValue})
	if err != nil || len(rr.Kvs) == 0 {
		return nil, err
	}
	return rr.Kvs[0], nil
}
func (t readOnlyTxn) view() *readView { return t.v }
func (t readOnlyTxn) Rev() int64      { return t.v.curRev }

func execTxn(tv txnView, req *pb.TxnRequest) (*pb.TxnResponse, error) {
	path, err := comparePath(tv, req, nil)
	if err != nil {
		return nil, err
	}
	if _, err := checkPath(tv, req, path); err != nil {
		return nil, err
	}
	resp, _, err := runPath(tv, req, path)
	if err != nil {
		return nil, err
	}
	resp.Header = &pb.ResponseHeader{Revision: tv.Rev()}
	return resp, nil
}

// comparePath evaluates the compares of req and of every nested transaction
// on the chosen branches, depth first, before anything is written.
func comparePath(tv txnView, req *pb.TxnRequest, path []bool) ([]bool, error) {
	ok := true
	for _, c := range req.Compare {
		match, err := compare(tv, c)
		if err != nil {
			return nil, err
		}
		if !match {
			ok = false
			break
		}
	}
	path = append(path, ok)
	for _, op := range branch(req, ok) {
		if nested := op.GetRequestTxn(); nested != nil {
			var err error
			if path, err = comparePath(tv, nested, path); err != nil {
				return nil, err
			}
		}
	}
	return path, nil
}

func branch(req *pb.TxnRequest, succeeded bool) []*pb.RequestOp {
	if succeeded {
		return req.Success
	}
	return req.Failure
}

// checkPath validates the operations on the chosen branches; it returns how
// many path entries it consumed.
func checkPath(tv txnView, req *pb.TxnRequest, path []bool) (int, error) {
	used := 1
	v := tv.view()
	for _, op := range branch(req, path[0]) {
		switch r := op.Request.(type) {
		case *pb.RequestOp_RequestRange:
			if r.RequestRange == nil {
				continue
			}
			if rev := r.RequestRange.Revision; rev > v.curRev {
				return 0, ErrFutureRev
			} else if rev > 0 && rev < v.compactRev() {
				return 0, ErrCompacted
			}
		case *pb.RequestOp_RequestPut:
			if r.RequestPut == nil {
				continue
			}
			if err := tv.checkPut(r.RequestPut); err != nil {
				return 0, err
			}
		case *pb.RequestOp_RequestTxn:
			if r.RequestTxn == nil {
				continue
			}
			n, err := checkPath(tv, r.RequestTxn, path[used:])
			if err != nil {
				return 0, err
			}
			used += n
		}
	}
	return used, nil
}

// runPath executes the chosen branches. Each operation's response header
// holds the transaction's revision as of that operation; a nested
// transaction's own header is empty, as etcd returns it.
func runPath(tv txnView, req *pb.TxnRequest, path []bool) (*pb.TxnResponse, int, error) {
	resp := &pb.TxnResponse{Succeeded: path[0]}
	used := 1
	ops := branch(req, path[0])
	resp.Responses = make([]*pb.ResponseOp, 0, len(ops))
	for _, op := range ops {
		var out *pb.ResponseOp
		switch r := op.Request.(type) {
		case *pb.RequestOp_RequestRange:
			rr, err := tv.Range(nonNil(r.RequestRange))
			if err != nil {
				return nil, 0, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: rr}}
		case *pb.RequestOp_RequestPut:
			pr, err := tv.Put(nonNilPut(r.RequestPut))
			if err != nil {
				return nil, 0, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{ResponsePut: pr}}
		case *pb.RequestOp_RequestDeleteRange:
			dr, err := tv.DeleteRange(nonNilDelete(r.RequestDeleteRange))
			if err != nil {
				return nil, 0, err
			}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: dr}}
		case *pb.RequestOp_RequestTxn:
			nested := r.RequestTxn
			if nested == nil {
				nested = &pb.TxnRequest{}
			}
			tr, n, err := runPath(tv, nested, path[used:])
			if err != nil {
				return nil, 0, err
			}
			used += n
			tr.Header = &pb.ResponseHeader{}
			out = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: tr}}
		default:
			continue
		}
		resp.Responses = append(resp.Responses, out)
	}
	return resp, used, nil
}

func nonNil(r *pb.RangeRequest) *pb.RangeRequest {
	if r == nil {
		return &pb.RangeRequest{}
	}
	return r
}

func nonNilPut(r *pb.PutRequest) *pb.PutRequest {
	if r == nil {
		return &pb.PutRequest{}
	}
	return r
}

func nonNilDelete(r *pb.DeleteRangeRequest) *pb.DeleteRangeRequest {
	if r == nil {
		return &pb.DeleteRangeRequest{}
	}
	return r
}

// compare evaluates one Compare: with a range every key must match; a
// missing key compares as zero, except that a VALUE compare on a missing key
// is always false.
func compare(tv txnView, c *pb.Compare) (bool, error) {
	if len(c.RangeEnd) == 0 {
		kv, err := tv.get(c.Key, c.Target == pb.Compare_VALUE)
		if err != nil {
			return false, err
		}
		if kv == nil {
			return c.Target != pb.Compare_VALUE && compareKV(c, &mvccpb.KeyValue{}), nil
		}
		return compareKV(c, kv), nil
	}
	rr, err := tv.Range(&pb.RangeRequest{Key: c.Key, RangeEnd: c.RangeEnd})
	if err != nil {
		return false, err
	}
	if len(rr.Kvs) == 0 {
		if c.Target == pb.Compare_VALUE {
			return false, nil
		}
		return compareKV(c, &mvccpb.KeyValue{}), nil
	}
	for _, kv := range rr.Kvs {
		if !compareKV(c, kv) {
			return false, nil
		}
	}
	return true, nil
}

func compareKV(c *pb.Compare, kv *mvccpb.KeyValue) bool {
	var r int
	switch c.Target {
	case pb.Compare_VALUE:
		r = bytes.Compare(kv.Value, c.GetValue())
	case pb.Compare_CREATE:
		r = cmpInt(kv.CreateRevision, c.GetCreateRevision())
	case pb.Compare_MOD:
		r = cmpInt(kv.ModRevision, c.GetModRevision())
	case pb.Compare_VERSION:
		r = cmpInt(kv.Version, c.GetVersion())
	case pb.Compare_LEASE:
		r = cmpInt(kv.Lease, c.GetLease())
	default:
		return false
	}
	switch c.Result {
	case pb.Compare_EQUAL:
		return r == 0
	case pb.Compare_NOT_EQUAL:
		return r != 0
	case pb.Compare_GREATER:
		return r > 0
	case pb.Compare_LESS:
		return r < 0
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
