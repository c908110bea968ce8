package v3rpc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/wirebuf"
)

// encodedMessage is a message already in its wire form (see
// watch_encode.go); the codec sends its buffer as it is.
type encodedMessage struct {
	buf mem.Buffer
}

// codec is the client server's gRPC codec: protobuf, as gRPC's default,
// except that an encodedMessage goes out without encoding and a range
// response whose KeyValues are already encoded (mvcc.RangeWire) goes out
// without copying them.
type codec struct {
	proto encoding.CodecV2
	bytes ByteCounter // nil: not counted
}

// ByteCounter counts the bytes of the messages a server exchanges with its
// clients (etcd_network_client_grpc_{sent,received}_bytes_total). The codec
// sees every message whole, so counting there costs an addition; gRPC's
// stats handlers, the other place that knows the sizes, cost about 5% of a
// member's CPU under small puts.
type ByteCounter interface {
	Sent(n int)
	Received(n int)
}

func newCodec(bytes ByteCounter) codec {
	return codec{proto: encoding.GetCodecV2("proto"), bytes: bytes}
}

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	out, err := c.marshal(v)
	if err == nil && c.bytes != nil {
		c.bytes.Sent(out.Len())
	}
	return out, err
}

func (c codec) marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *encodedMessage:
		return mem.BufferSlice{m.buf}, nil
	case *pb.RangeResponse:
		if kvs := m.ProtoReflect().GetUnknown(); len(kvs) > 0 && len(m.Kvs) == 0 {
			return marshalWireRange(m, kvs)
		}
	}
	return c.proto.Marshal(v)
}

// marshalWireRange writes resp in field order, as protobuf would: header,
// then the encoded kvs, then more and count. The kvs buffer is sent as it
// is and goes back to wirebuf once written; the response lets go of it
// first, so nothing can read it after its reuse.
func marshalWireRange(resp *pb.RangeResponse, kvs []byte) (mem.BufferSlice, error) {
	head, err := proto.Marshal(&pb.RangeResponse{Header: resp.Header})
	if err != nil {
		return nil, err
	}
	tail, err := proto.Marshal(&pb.RangeResponse{More: resp.More, Count: resp.Count})
	if err != nil {
		return nil, err
	}
	resp.ProtoReflect().SetUnknown(nil)
	return mem.BufferSlice{mem.SliceBuffer(head), mem.NewBuffer(&kvs, wirebuf.Pool{}), mem.SliceBuffer(tail)}, nil
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if c.bytes != nil {
		c.bytes.Received(data.Len())
	}
	return c.proto.Unmarshal(data, v)
}

func (c codec) Name() string { return c.proto.Name() }
