package v3lock

import (
	"bytes"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/v3lock/v3electionpb"
	"github.com/cairn-kv/cairn/internal/v3lock/v3lockpb"
)

// wire builds the expected encoding field by field, so the test pins the
// field numbers and types clients rely on independently of the generated
// code.
type wire []byte

func (w wire) bytes(num protowire.Number, v []byte) wire {
	return protowire.AppendBytes(protowire.AppendTag(w, num, protowire.BytesType), v)
}

func (w wire) varint(num protowire.Number, v int64) wire {
	return protowire.AppendVarint(protowire.AppendTag(w, num, protowire.VarintType), uint64(v))
}

func TestWireFormat(t *testing.T) {
	header := wire(nil).varint(1, 7).varint(2, 9).varint(3, 42).varint(4, 3)
	pbHeader := &etcdserverpb.ResponseHeader{ClusterId: 7, MemberId: 9, Revision: 42, RaftTerm: 3}
	leaderKey := wire(nil).bytes(1, []byte("e")).bytes(2, []byte("e/1")).varint(3, 5).varint(4, -2)
	pbLeaderKey := &v3electionpb.LeaderKey{Name: []byte("e"), Key: []byte("e/1"), Rev: 5, Lease: -2}
	kv := wire(nil).bytes(1, []byte("e/1")).varint(2, 5).varint(3, 6).varint(4, 2).bytes(5, []byte("v")).varint(6, 1)
	tests := []struct {
		name string // the message's full name
		msg  proto.Message
		want wire
	}{
		{"v3lockpb.LockRequest", &v3lockpb.LockRequest{Name: []byte("n"), Lease: 1}, wire(nil).bytes(1, []byte("n")).varint(2, 1)},
		{"v3lockpb.LockResponse", &v3lockpb.LockResponse{Header: pbHeader, Key: []byte("n/1")}, wire(nil).bytes(1, header).bytes(2, []byte("n/1"))},
		{"v3lockpb.UnlockRequest", &v3lockpb.UnlockRequest{Key: []byte("n/1")}, wire(nil).bytes(1, []byte("n/1"))},
		{"v3lockpb.UnlockResponse", &v3lockpb.UnlockResponse{Header: pbHeader}, wire(nil).bytes(1, header)},
		{"v3electionpb.CampaignRequest", &v3electionpb.CampaignRequest{Name: []byte("e"), Lease: 1, Value: []byte("v")},
			wire(nil).bytes(1, []byte("e")).varint(2, 1).bytes(3, []byte("v"))},
		{"v3electionpb.CampaignResponse", &v3electionpb.CampaignResponse{Header: pbHeader, Leader: pbLeaderKey}, wire(nil).bytes(1, header).bytes(2, leaderKey)},
		{"v3electionpb.LeaderRequest", &v3electionpb.LeaderRequest{Name: []byte("e")}, wire(nil).bytes(1, []byte("e"))},
		{"v3electionpb.LeaderResponse", &v3electionpb.LeaderResponse{Header: pbHeader,
			Kv: &mvccpb.KeyValue{Key: []byte("e/1"), CreateRevision: 5, ModRevision: 6, Version: 2, Value: []byte("v"), Lease: 1}},
			wire(nil).bytes(1, header).bytes(2, kv)},
		{"v3electionpb.ProclaimRequest", &v3electionpb.ProclaimRequest{Leader: pbLeaderKey, Value: []byte("w")}, wire(nil).bytes(1, leaderKey).bytes(2, []byte("w"))},
		{"v3electionpb.ProclaimResponse", &v3electionpb.ProclaimResponse{Header: pbHeader}, wire(nil).bytes(1, header)},
		{"v3electionpb.ResignRequest", &v3electionpb.ResignRequest{Leader: pbLeaderKey}, wire(nil).bytes(1, leaderKey)},
		{"v3electionpb.ResignResponse", &v3electionpb.ResignResponse{Header: pbHeader}, wire(nil).bytes(1, header)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.MarshalOptions{Deterministic: true}.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got  %x\nwant %x", got, []byte(tt.want))
			}
			if full := string(tt.msg.ProtoReflect().Descriptor().FullName()); full != tt.name {
				t.Errorf("full name %s", full)
			}
		})
	}
}

// TestMethodNames pins the gRPC paths clients call.
func TestMethodNames(t *testing.T) {
	got := []string{v3lockpb.Lock_Lock_FullMethodName, v3lockpb.Lock_Unlock_FullMethodName,
		v3electionpb.Election_Campaign_FullMethodName, v3electionpb.Election_Proclaim_FullMethodName,
		v3electionpb.Election_Leader_FullMethodName, v3electionpb.Election_Observe_FullMethodName,
		v3electionpb.Election_Resign_FullMethodName}
	want := []string{"/v3lockpb.Lock/Lock", "/v3lockpb.Lock/Unlock",
		"/v3electionpb.Election/Campaign", "/v3electionpb.Election/Proclaim",
		"/v3electionpb.Election/Leader", "/v3electionpb.Election/Observe", "/v3electionpb.Election/Resign"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("method %d: got %s, want %s", i, got[i], want[i])
		}
	}
	if !v3electionpb.Election_ServiceDesc.Streams[0].ServerStreams || v3electionpb.Election_ServiceDesc.Streams[0].StreamName != "Observe" {
		t.Errorf("Observe is not a server stream: %+v", v3electionpb.Election_ServiceDesc.Streams)
	}
}
