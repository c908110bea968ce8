package v3rpc

import (
	"bytes"
	"math"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

func TestEventEncoderMatchesProtobuf(t *testing.T) {
	put := &mvccpb.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("k\x00ey"), Value: bytes.Repeat([]byte("v"), 300),
		CreateRevision: 2, ModRevision: 7, Version: 3, Lease: 0x1234}}
	del := &mvccpb.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte("k"), ModRevision: 8},
		PrevKv: &mvccpb.KeyValue{Key: []byte("k"), Value: []byte("old"), CreateRevision: 1, ModRevision: 5, Version: 2}}
	empty := &mvccpb.Event{}
	full := &pb.ResponseHeader{ClusterId: math.MaxUint64, MemberId: 0x8e9e05c52164694d, Revision: 1 << 40, RaftTerm: 2}
	var enc eventEncoder
	for i, resp := range []*pb.WatchResponse{
		{Header: full, WatchId: 1, Events: []*mvccpb.Event{put}},
		{Header: full, WatchId: 0, Events: []*mvccpb.Event{put, del, empty}},
		{Header: &pb.ResponseHeader{}, WatchId: 1 << 50, Events: []*mvccpb.Event{del}},
		{Header: &pb.ResponseHeader{Revision: 9}, WatchId: -1, Events: []*mvccpb.Event{put, put}},
	} {
		msg, err := enc.message(resp)
		if err != nil {
			t.Fatal(err)
		}
		em, ok := msg.(*encodedMessage)
		if !ok {
			t.Fatalf("response %d not encoded by the event encoder", i)
		}
		got := em.buf.ReadOnlyData()
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("response %d:\n got %x\nwant %x", i, got, want)
		}
		var back pb.WatchResponse
		if err := proto.Unmarshal(got, &back); err != nil || !proto.Equal(&back, resp) {
			t.Fatalf("response %d decodes as %v (%v)", i, &back, err)
		}
		em.buf.Free()
	}
	if len(enc.events) != 3 {
		t.Fatalf("%d events encoded, want each of the 3 distinct events once", len(enc.events))
	}
}

// Responses other than plain event batches go through protobuf unchanged.
func TestEventEncoderLeavesOtherResponses(t *testing.T) {
	ev := []*mvccpb.Event{{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("k")}}}
	hdr := &pb.ResponseHeader{Revision: 3}
	var enc eventEncoder
	for i, resp := range []*pb.WatchResponse{
		{Header: hdr, WatchId: 1, Created: true},
		{Header: hdr, WatchId: 1, Canceled: true, CancelReason: "etcdserver: mvcc: required revision has been compacted", CompactRevision: 2},
		{Header: hdr, WatchId: 1, Fragment: true, Events: ev},
		{Header: hdr, WatchId: -1},
		{WatchId: 1, Events: ev},
	} {
		msg, err := enc.message(resp)
		if err != nil {
			t.Fatal(err)
		}
		if msg != any(resp) {
			t.Fatalf("response %d (%v) was re-encoded", i, resp)
		}
	}
}

func TestCodecSendsEncodedBytes(t *testing.T) {
	c := newCodec(nil)
	resp := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 4}, WatchId: 2,
		Events: []*mvccpb.Event{{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("a"), Value: []byte("b")}}}}
	var enc eventEncoder
	msg, err := enc.message(resp)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var back pb.WatchResponse
	if err := c.Unmarshal(out, &back); err != nil || !proto.Equal(&back, resp) {
		t.Fatalf("codec round trip: %v (%v)", &back, err)
	}
	if plain, err := c.Marshal(&pb.RangeResponse{Count: 3}); err != nil || plain.Len() == 0 {
		t.Fatalf("codec on an ordinary message: %v bytes, %v", plain.Len(), err)
	}
}
