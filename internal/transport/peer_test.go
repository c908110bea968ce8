package transport

import (
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

type countingReporter struct{ unreachable atomic.Int64 }

func (r *countingReporter) ReportUnreachable(uint64)                   { r.unreachable.Add(1) }
func (r *countingReporter) ReportSnapshot(uint64, raft.SnapshotStatus) {}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestUnreachablePeerDropsQueuedMessages: messages for a peer that cannot
// be reached are dropped within about a redial interval, not held for
// delivery once it comes back.
func TestUnreachablePeerDropsQueuedMessages(t *testing.T) {
	var failed atomic.Int64
	rep := &countingReporter{}
	tr := New(Config{LocalID: 1, ClusterID: 7, OnSendFailed: func(_ uint64, n int) { failed.Add(int64(n)) }}, nil, rep, nil, slog.New(slog.DiscardHandler))
	defer tr.Close()
	tr.AddPeer(2, []string{closedURL(t)})
	const n = 100
	msgs := make([]*raftpb.Message, n)
	for i := range msgs {
		msgs[i] = &raftpb.Message{Type: raftpb.MsgProp.Enum(), From: proto.Uint64(1), To: proto.Uint64(2), Entries: []*raftpb.Entry{{Data: []byte("x")}}}
	}
	tr.Send(msgs)
	p, ok := tr.lookup(2)
	if !ok {
		t.Fatal("peer 2 not added")
	}
	deadline := time.Now().Add(3 * time.Second)
	for p.unsent.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages still queued for an unreachable peer after 3s", p.unsent.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := failed.Load(); got != n {
		t.Fatalf("%d messages reported as failed, want %d", got, n)
	}
	if rep.unreachable.Load() == 0 {
		t.Fatal("the peer was never reported unreachable")
	}
}
