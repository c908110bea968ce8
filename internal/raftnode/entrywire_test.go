package raftnode

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func entryCases(t testing.TB) []*raftpb.Entry {
	withUnknown := &raftpb.Entry{}
	raw := protowire.AppendTag(nil, 3, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 9)
	raw = protowire.AppendTag(raw, 15, protowire.BytesType) // not a field of Entry
	raw = protowire.AppendBytes(raw, []byte("from a newer peer"))
	if err := proto.Unmarshal(raw, withUnknown); err != nil {
		t.Fatal(err)
	}
	cases := []*raftpb.Entry{
		{},
		{Data: []byte{}}, // present but empty: encoded with length 0
		{Term: proto.Uint64(0), Index: proto.Uint64(0), Type: raftpb.EntryNormal.Enum()},
		{Term: proto.Uint64(math.MaxUint64), Index: proto.Uint64(1 << 63), Type: raftpb.EntryConfChangeV2.Enum(), Data: bytes.Repeat([]byte{7}, 300)},
		{Type: raftpb.EntryType(-1).Enum()}, // enums are sign-extended to ten bytes
		withUnknown,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		e := &raftpb.Entry{}
		if rng.IntN(4) > 0 {
			e.Term = proto.Uint64(rng.Uint64() >> rng.IntN(64))
		}
		if rng.IntN(4) > 0 {
			e.Index = proto.Uint64(rng.Uint64() >> rng.IntN(64))
		}
		if rng.IntN(4) > 0 {
			e.Type = raftpb.EntryType(rng.IntN(3)).Enum()
		}
		if rng.IntN(4) > 0 {
			e.Data = make([]byte, rng.IntN(1<<rng.IntN(15)))
		}
		cases = append(cases, e)
	}
	return cases
}

func TestEntryWireMatchesProto(t *testing.T) {
	for i, e := range entryCases(t) {
		want, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEntry([]byte("prefix"), e); !bytes.Equal(got[len("prefix"):], want) {
			t.Errorf("case %d (%v): appendEntry = %x, proto.Marshal = %x", i, e, got[len("prefix"):], want)
		}
		if got := entrySize(e); got != len(want) {
			t.Errorf("case %d (%v): entrySize = %d, encoded size %d", i, e, got, len(want))
		}
		var back raftpb.Entry
		if err := proto.Unmarshal(appendEntry(nil, e), &back); err != nil || !proto.Equal(&back, e) {
			t.Errorf("case %d: round trip gave %v (error %v), want %v", i, &back, err, e)
		}
	}
}

func benchEntry() *raftpb.Entry {
	return &raftpb.Entry{Term: proto.Uint64(7), Index: proto.Uint64(123456789), Type: raftpb.EntryNormal.Enum(), Data: make([]byte, 300)}
}

func BenchmarkEntryEncode(b *testing.B) {
	e := benchEntry()
	b.Run("proto", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], e)
			_ = proto.Size(e)
		}
	})
	b.Run("entrywire", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = appendEntry(buf[:0], e)
			_ = entrySize(e)
		}
	})
}
