package v3rpc

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// FuzzCheckTxn feeds arbitrary encoded transactions to the validators: they
// must never panic, whatever nesting or nil fields a client sends.
func FuzzCheckTxn(f *testing.F) {
	seed := &pb.TxnRequest{
		Compare: []*pb.Compare{{Key: []byte("k"), Target: pb.Compare_VALUE}},
		Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("a")}}},
			{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("b")}}},
			{Request: &pb.RequestOp_RequestTxn{RequestTxn: &pb.TxnRequest{Failure: []*pb.RequestOp{{}}}}},
		},
	}
	data, _ := proto.Marshal(seed)
	f.Add(data)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &pb.TxnRequest{}
		if proto.Unmarshal(data, r) != nil {
			return
		}
		_ = checkTxn(r, 128)
		_, _, _ = checkTxnIntervals(r.Success)
		_, _, _ = checkTxnIntervals(r.Failure)
	})
}

func FuzzCheckRange(f *testing.F) {
	data, _ := proto.Marshal(&pb.RangeRequest{Key: []byte("a"), SortOrder: 2, SortTarget: 4})
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &pb.RangeRequest{}
		if proto.Unmarshal(data, r) != nil {
			return
		}
		err := checkRange(r)
		if len(r.Key) == 0 && err == nil {
			t.Fatal("empty key accepted")
		}
	})
}
