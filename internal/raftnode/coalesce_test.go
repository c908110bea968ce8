package raftnode

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func app(to, term, logTerm, index, commit uint64, entryTerms ...uint64) *raftpb.Message {
	m := &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: proto.Uint64(to), From: proto.Uint64(1),
		Term: proto.Uint64(term), LogTerm: proto.Uint64(logTerm), Index: proto.Uint64(index), Commit: proto.Uint64(commit)}
	for i, t := range entryTerms {
		m.Entries = append(m.Entries, &raftpb.Entry{Term: proto.Uint64(t), Index: proto.Uint64(index + 1 + uint64(i)), Data: []byte("0123456789")})
	}
	return m
}

func describe(m *raftpb.Message) [5]uint64 {
	return [5]uint64{m.GetTo(), m.GetIndex(), m.GetLogTerm(), uint64(len(m.Entries)), m.GetCommit()}
}

func TestCoalesceAppends(t *testing.T) {
	hb := &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), To: proto.Uint64(2), From: proto.Uint64(1), Term: proto.Uint64(3)}
	in := []*raftpb.Message{
		app(2, 3, 3, 10, 9, 3),     // 11
		app(3, 3, 3, 10, 9, 3),     // 11 to another peer
		app(2, 3, 3, 11, 10, 3, 3), // 12, 13: continues
		app(3, 3, 3, 11, 10, 3),    // continues for peer 3
		hb,                         // breaks peer 2's run
		app(2, 3, 3, 13, 11, 3),    // after the heartbeat: new run
		app(2, 3, 3, 15, 11, 3),    // a gap: not merged
		app(2, 4, 3, 16, 11, 4),    // a new term: not merged
	}
	got := coalesceAppends(in, 1<<20)
	want := [][5]uint64{
		{2, 10, 3, 3, 10},
		{3, 10, 3, 2, 10},
		{2, 0, 0, 0, 0}, // the heartbeat
		{2, 13, 3, 1, 11},
		{2, 15, 3, 1, 11},
		{2, 16, 3, 1, 11},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if d := describe(got[i]); d != want[i] {
			t.Errorf("message %d = %v, want %v", i, d, want[i])
		}
	}
	// The merged append's entries are the run's, in order.
	for i, e := range got[0].Entries {
		if e.GetIndex() != uint64(11+i) {
			t.Errorf("entry %d has index %d", i, e.GetIndex())
		}
	}
	// The inputs are untouched: raft may still refer to them.
	if len(in[0].Entries) != 1 || in[0].GetCommit() != 9 {
		t.Error("coalescing modified an input message")
	}
}

func TestCoalesceAppendsRespectsSizeAndTerms(t *testing.T) {
	in := []*raftpb.Message{app(2, 3, 2, 10, 9, 3), app(2, 3, 3, 11, 9, 3), app(2, 3, 3, 12, 9, 3)}
	if got := coalesceAppends(in, 15); len(got) != 3 {
		t.Errorf("appends over the size bound merged: %d messages", len(got))
	}
	if got := coalesceAppends(in, 20); len(got) != 2 {
		t.Errorf("two appends within the bound: %d messages", len(got))
	}
	// The log term must match the previous append's last entry.
	bad := []*raftpb.Message{app(2, 3, 2, 10, 9, 2), app(2, 3, 3, 11, 9, 3)}
	if got := coalesceAppends(bad, 1<<20); len(got) != 2 {
		t.Errorf("appends with mismatched log term merged")
	}
	rej := app(2, 3, 3, 11, 9, 3)
	rej.Reject = proto.Bool(false)
	if got := coalesceAppends([]*raftpb.Message{app(2, 3, 2, 10, 9, 3), rej}, 1<<20); len(got) != 2 {
		t.Errorf("an append with extra fields merged")
	}
}
