package raftnode

import (
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Log entries are sized on every append, cache eviction and Entries call,
// and encoded once each on append: the hottest protobuf work of a write.
// These two functions give the bytes and size proto.Marshal and proto.Size
// give (fields in number order, unknown fields last) without going through
// protobuf's reflection tables; entrywire_test.go holds them to that.

// entrySize is proto.Size(e).
func entrySize(e *raftpb.Entry) int {
	n := 0
	if e.Type != nil {
		n += 1 + protowire.SizeVarint(uint64(int64(*e.Type)))
	}
	if e.Term != nil {
		n += 1 + protowire.SizeVarint(*e.Term)
	}
	if e.Index != nil {
		n += 1 + protowire.SizeVarint(*e.Index)
	}
	if e.Data != nil {
		n += 1 + protowire.SizeBytes(len(e.Data))
	}
	return n + len(e.ProtoReflect().GetUnknown())
}

// appendEntry appends proto.Marshal(e) to buf.
func appendEntry(buf []byte, e *raftpb.Entry) []byte {
	if e.Type != nil {
		buf = protowire.AppendTag(buf, 1, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(int64(*e.Type)))
	}
	if e.Term != nil {
		buf = protowire.AppendTag(buf, 2, protowire.VarintType)
		buf = protowire.AppendVarint(buf, *e.Term)
	}
	if e.Index != nil {
		buf = protowire.AppendTag(buf, 3, protowire.VarintType)
		buf = protowire.AppendVarint(buf, *e.Index)
	}
	if e.Data != nil {
		buf = protowire.AppendTag(buf, 4, protowire.BytesType)
		buf = protowire.AppendBytes(buf, e.Data)
	}
	return append(buf, e.ProtoReflect().GetUnknown()...)
}
