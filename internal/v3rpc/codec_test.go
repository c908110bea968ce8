package v3rpc

import (
	"bytes"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// TestCodecWritesWireRangeInFieldOrder checks that a range response whose
// KeyValues are already encoded goes out byte for byte as protobuf writes
// the same response built of objects.
func TestCodecWritesWireRangeInFieldOrder(t *testing.T) {
	kvs := []*mvccpb.KeyValue{
		{Key: []byte("a"), Value: []byte("1"), CreateRevision: 2, ModRevision: 5, Version: 2, Lease: 7},
		{Key: []byte("b\x00"), CreateRevision: 3, ModRevision: 3, Version: 1},
	}
	built := &pb.RangeResponse{
		Header: &pb.ResponseHeader{ClusterId: 1, MemberId: 2, Revision: 9, RaftTerm: 3},
		Kvs:    kvs,
		More:   true,
		Count:  40,
	}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(built)
	if err != nil {
		t.Fatal(err)
	}
	encodedKVs, err := proto.Marshal(&pb.RangeResponse{Kvs: kvs})
	if err != nil {
		t.Fatal(err)
	}
	wireResponse := func() *pb.RangeResponse {
		r := &pb.RangeResponse{Header: built.Header, More: built.More, Count: built.Count}
		r.ProtoReflect().SetUnknown(encodedKVs)
		return r
	}

	c := newCodec(nil)
	for name, resp := range map[string]*pb.RangeResponse{"wire": wireResponse(), "built": built} {
		out, err := c.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Materialize(); !bytes.Equal(got, want) {
			t.Errorf("%s: codec wrote\n%x\nwant\n%x", name, got, want)
		}
	}
	// The codec sends the encoded KeyValues without copying them, and the
	// response no longer refers to them: they go back to the pool once sent.
	wire := wireResponse()
	out, err := c.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || &out[1].ReadOnlyData()[0] != &encodedKVs[0] {
		t.Error("the encoded KeyValues were copied")
	}
	if len(wire.ProtoReflect().GetUnknown()) != 0 {
		t.Error("the response still holds the encoded KeyValues after marshaling")
	}
}

type byteCount struct{ sent, received int }

func (b *byteCount) Sent(n int)     { b.sent += n }
func (b *byteCount) Received(n int) { b.received += n }

// TestCodecCountsMessageBytes: the codec counts the encoded size of every
// message it writes and reads, the sizes etcd's byte counters report.
func TestCodecCountsMessageBytes(t *testing.T) {
	var counted byteCount
	c := newCodec(&counted)
	resp := &pb.PutResponse{Header: &pb.ResponseHeader{ClusterId: 1, MemberId: 2, Revision: 30, RaftTerm: 4}}
	out, err := c.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if counted.sent != proto.Size(resp) || out.Len() != counted.sent {
		t.Fatalf("sent %d bytes counted, message is %d", counted.sent, proto.Size(resp))
	}
	req := &pb.PutRequest{Key: []byte("k"), Value: bytes.Repeat([]byte("v"), 300)}
	in, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var got pb.PutRequest
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(in)}, &got); err != nil {
		t.Fatal(err)
	}
	if counted.received != len(in) || !proto.Equal(&got, req) {
		t.Fatalf("received %d bytes counted for a %d-byte request (decoded %v)", counted.received, len(in), &got)
	}
}
