package transport

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Frame is the unit the peer service exchanges: opaque bytes.
type Frame struct{ B []byte }

// rawCodec moves Frames through gRPC unchanged.
type rawCodec struct{}

const codecName = "cairn-raw"

func (rawCodec) Name() string { return codecName }

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*Frame)
	if !ok {
		return nil, fmt.Errorf("transport: cannot marshal %T", v)
	}
	return f.B, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*Frame)
	if !ok {
		return fmt.Errorf("transport: cannot unmarshal into %T", v)
	}
	f.B = append(f.B[:0], data...)
	return nil
}

// encodeMessages packs raft messages into one frame body.
func encodeMessages(dst []byte, msgs []*raftpb.Message) ([]byte, error) {
	for _, m := range msgs {
		size := proto.Size(m)
		dst = binary.AppendUvarint(dst, uint64(size))
		var err error
		if dst, err = (proto.MarshalOptions{}).MarshalAppend(dst, m); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// decodeMessages unpacks a frame body.
func decodeMessages(b []byte, fn func(m *raftpb.Message) error) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return fmt.Errorf("transport: malformed frame")
		}
		m := &raftpb.Message{}
		if err := proto.Unmarshal(b[k:k+int(n)], m); err != nil {
			return fmt.Errorf("transport: decode message: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
		b = b[k+int(n):]
	}
	return nil
}
