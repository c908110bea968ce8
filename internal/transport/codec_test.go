package transport

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func TestMessagesRoundTrip(t *testing.T) {
	msgs := []*raftpb.Message{
		{Type: raftpb.MsgApp.Enum(), To: proto.Uint64(2), From: proto.Uint64(1), Term: proto.Uint64(3),
			Entries: []*raftpb.Entry{{Index: proto.Uint64(7), Term: proto.Uint64(3), Data: []byte("x")}}},
		{Type: raftpb.MsgHeartbeat.Enum(), To: proto.Uint64(3)},
	}
	b, err := encodeMessages(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	var got []*raftpb.Message
	if err := decodeMessages(b, func(m *raftpb.Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !proto.Equal(got[0], msgs[0]) || !proto.Equal(got[1], msgs[1]) {
		t.Fatalf("round trip: %v", got)
	}
}

func FuzzDecodeMessages(f *testing.F) {
	b, _ := encodeMessages(nil, []*raftpb.Message{{Type: raftpb.MsgVote.Enum(), Term: proto.Uint64(9)}})
	f.Add(b)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = decodeMessages(b, func(*raftpb.Message) error { return nil })
	})
}
