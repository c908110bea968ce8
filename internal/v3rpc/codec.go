package v3rpc

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// encodedMessage is a message already in its wire form (see
// watch_encode.go); the codec sends its buffer as it is.
type encodedMessage struct {
	buf mem.Buffer
}

// codec is the client server's gRPC codec: protobuf, as gRPC's default,
// except that an encodedMessage goes out without encoding.
type codec struct {
	proto encoding.CodecV2
}

func newCodec() codec { return codec{proto: encoding.GetCodecV2("proto")} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*encodedMessage); ok {
		return mem.BufferSlice{m.buf}, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c codec) Name() string { return c.proto.Name() }
