package raftnode

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

type dropTransport struct{}

func (dropTransport) Send([]*raftpb.Message) {}

// TestStartWithAppliedAheadOfStoredCommit covers a crash between two
// unsynced engine writes: the applier's batch (applied index 5) reached the
// engine's log, the hard state recording commit 5 did not. Entries are
// applied only once committed, so the member must start, taking the applied
// index as committed, instead of raft refusing an applied index above its
// commit index.
func TestStartWithAppliedAheadOfStoredCommit(t *testing.T) {
	eng := openTestEngine(t, t.TempDir())
	t.Cleanup(func() { eng.Close() })
	ls, err := OpenLogStore(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	hs := &raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(3)}
	if err := ls.Append(hs, ents(1, 1, 6), true); err != nil {
		t.Fatal(err)
	}
	ls.SetConfState(&raftpb.ConfState{Voters: []uint64{1, 2, 3}})

	started := make(chan *Node, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("start panicked: %v", r)
				close(started)
			}
		}()
		n, err := Start(Config{ID: 1, TickInterval: time.Hour, ElectionTicks: 10, HeartbeatTicks: 1, Applied: 5},
			ls, dropTransport{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Errorf("start: %v", err)
			close(started)
			return
		}
		started <- n
	}()
	n, ok := <-started
	if !ok {
		return
	}
	defer n.Stop()
	if got := n.CommitIndex(); got != 5 {
		t.Errorf("commit index %d after start, want the applied index 5", got)
	}
	if got, _, _ := ls.InitialState(); got.GetCommit() != 5 || got.GetTerm() != 1 || got.GetVote() != 1 {
		t.Errorf("hard state %v, want term 1, vote 1, commit 5", got)
	}
}
