package transport

import (
	"context"
	"log/slog"
	"net"
	"strings"
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

// recordingHandler passes the raft messages it is given to got; the rest of
// Handler is not used by these tests.
type recordingHandler struct {
	Handler
	got chan *raftpb.Message
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{got: make(chan *raftpb.Message, 1024)}
}

func (h *recordingHandler) Process(_ context.Context, m *raftpb.Message) error {
	select {
	case h.got <- m:
	default:
	}
	return nil
}

func (h *recordingHandler) IsRemoved(uint64) bool { return false }

func heartbeat(from, to, commit uint64) *raftpb.Message {
	return &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: proto.Uint64(from), To: proto.Uint64(to),
		Term: proto.Uint64(1), Commit: proto.Uint64(commit)}
}

// TestPeerHeardFromAfterAnOutageGetsTheNextMessageAtOnce: member 1 tries
// to reach an absent member 2 until its redials are a second apart; 2
// comes up and sends to 1. What 1 sends next must reach 2 at once, not be
// dropped on a connection still backing off (a follower's forwarded
// proposal right after a partition heals would wait for its timeout).
func TestPeerHeardFromAfterAnOutageGetsTheNextMessageAtOnce(t *testing.T) {
	lg := slog.New(slog.DiscardHandler)
	h1, h2 := newRecordingHandler(), newRecordingHandler()
	t1 := New(Config{LocalID: 1, ClusterID: 7}, h1, &countingReporter{}, nil, lg)
	defer t1.Close()
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t1.Serve(l1, nil)
	url2 := closedURL(t)
	t1.AddPeer(2, []string{url2})
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		t1.Send([]*raftpb.Message{heartbeat(1, 2, 0)})
		time.Sleep(100 * time.Millisecond)
	}

	l2, err := net.Listen("tcp", strings.TrimPrefix(url2, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t2 := New(Config{LocalID: 2, ClusterID: 7}, h2, &countingReporter{}, nil, lg)
	defer t2.Close()
	t2.Serve(l2, nil)
	t2.AddPeer(1, []string{"http://" + l1.Addr().String()})
	t2.Send([]*raftpb.Message{heartbeat(2, 1, 0)})
	select {
	case <-h1.got:
	case <-time.After(5 * time.Second):
		t.Fatal("member 1 never heard from member 2")
	}

	sent := time.Now()
	t1.Send([]*raftpb.Message{heartbeat(1, 2, 42)})
	timeout := time.After(3 * time.Second)
	for {
		select {
		case m := <-h2.got:
			if m.GetCommit() != 42 {
				continue // an earlier heartbeat that made it through
			}
			took := time.Since(sent)
			if took > 300*time.Millisecond {
				t.Fatalf("member 2 got the message %v after it was sent, want at once", took)
			}
			t.Logf("member 2 got the message %v after it was sent", took)
			return
		case <-timeout:
			t.Fatal("the message sent after member 1 heard from member 2 never arrived")
		}
	}
}
