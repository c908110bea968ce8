package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// memNet delivers raft messages between in-process nodes; a member marked
// down neither sends nor receives.
type memNet struct {
	mu    sync.Mutex
	nodes map[uint64]*Node
	down  map[uint64]bool
	// stall, when set, holds up member stallFrom's next Send for that long.
	stall     time.Duration
	stallFrom uint64
}

type memTransport struct {
	net  *memNet
	from uint64
}

func (tr memTransport) Send(msgs []*raftpb.Message) {
	tr.net.mu.Lock()
	defer tr.net.mu.Unlock()
	if d := tr.net.stall; d > 0 && tr.from == tr.net.stallFrom {
		tr.net.stall = 0
		time.Sleep(d)
	}
	if tr.net.down[tr.from] {
		return
	}
	for _, m := range msgs {
		if to := tr.net.nodes[m.GetTo()]; to != nil && !tr.net.down[m.GetTo()] {
			_ = to.Step(context.Background(), m)
		}
	}
}

// testMember is one member of a test cluster with the log of what it
// applied and how many synced appends it made.
type testMember struct {
	node           *Node
	fsyncs         atomic.Int64
	lateHeartbeats atomic.Int64

	mu      sync.Mutex
	applied []string
}

func (m *testMember) appliedData() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.applied...)
}

// startTestCluster starts n members that reach each other over memory;
// tune, when given, adjusts each member's configuration.
func startTestCluster(t *testing.T, n int, tune ...func(*Config)) (*memNet, []*testMember) {
	t.Helper()
	net := &memNet{nodes: map[uint64]*Node{}, down: map[uint64]bool{}}
	var peers []raft.Peer
	for i := 1; i <= n; i++ {
		peers = append(peers, raft.Peer{ID: uint64(i)})
	}
	members := make([]*testMember, n)
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range members {
		id := uint64(i + 1)
		eng := openTestEngine(t, t.TempDir())
		ls, err := OpenLogStore(eng.DB())
		if err != nil {
			t.Fatal(err)
		}
		m := &testMember{}
		cfg := Config{ID: id, Peers: peers, TickInterval: 10 * time.Millisecond,
			ElectionTicks: 10, HeartbeatTicks: 1, PreVote: true,
			OnFsync:         func(time.Duration) { m.fsyncs.Add(1) },
			OnLateHeartbeat: func() { m.lateHeartbeats.Add(1) }}
		for _, f := range tune {
			f(&cfg)
		}
		node, err := Start(cfg, ls, memTransport{net: net, from: id}, lg)
		if err != nil {
			t.Fatal(err)
		}
		m.node = node
		members[i] = m
		net.mu.Lock()
		net.nodes[id] = node
		net.mu.Unlock()
		go applyLoop(t, m, ls)
		t.Cleanup(func() { node.Stop(); eng.Close() })
	}
	return net, members
}

// applyLoop is the test's state machine: it records normal entries and
// applies configuration changes.
func applyLoop(t *testing.T, m *testMember, ls *LogStore) {
	for {
		select {
		case c := <-m.node.Committed():
			for _, e := range c.Entries {
				switch e.GetType() {
				case raftpb.EntryConfChange:
					var cc raftpb.ConfChange
					if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
						t.Errorf("conf change: %v", err)
					}
					ls.SetConfState(m.node.ApplyConfChange(&cc))
				case raftpb.EntryNormal:
					if len(e.GetData()) > 0 {
						m.mu.Lock()
						m.applied = append(m.applied, string(e.GetData()))
						m.mu.Unlock()
					}
				}
				m.node.SetApplied(e.GetIndex())
			}
			close(c.Done)
		case <-m.node.donec:
			return
		}
	}
}

func waitLeader(t *testing.T, members []*testMember) *testMember {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range members {
			if m.node.IsLeader() {
				return m
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return nil
}

func waitApplied(t *testing.T, members []*testMember, want []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, m := range members {
		for len(m.appliedData()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		got := m.appliedData()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("member %x applied %v, want %v", m.node.ID(), got, want)
		}
	}
}

// TestNodeReplicatesProposalsInOrder proposes on the leader and on
// followers (raft forwards those) and checks every member applies the same
// entries in the same order.
func TestNodeReplicatesProposalsInOrder(t *testing.T) {
	_, members := startTestCluster(t, 3)
	waitLeader(t, members)
	var want []string
	for i := range 30 {
		data := fmt.Sprintf("p%02d", i)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// Proposals go one at a time so that the order is the proposers'.
		if err := members[i%3].node.Propose(ctx, []byte(data)); err != nil {
			cancel()
			t.Fatalf("propose %s: %v", data, err)
		}
		cancel()
		want = append(want, data)
		waitApplied(t, members[i%3:i%3+1], want)
	}
	waitApplied(t, members, want)
}

// TestNodeProposeWaitsForLeader: without a leader a proposal waits (as
// with raft.Node) instead of being dropped at once, and goes through once
// a leader is elected.
func TestNodeProposeWaitsForLeader(t *testing.T) {
	net, members := startTestCluster(t, 3)
	leader := waitLeader(t, members)
	var follower *testMember
	for _, m := range members {
		if m != leader {
			follower = m
			break
		}
	}
	// Once it knows the leader (a follower may hear of it after the leader
	// itself does), cut it off: it loses its leader after an election
	// timeout and cannot win an election alone.
	for deadline := time.Now().Add(5 * time.Second); follower.node.Leader() != leader.node.ID(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the follower never learned the leader")
		}
	}
	net.mu.Lock()
	net.down[follower.node.ID()] = true
	net.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for follower.node.Leader() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if follower.node.Leader() != 0 {
		t.Fatal("the cut-off follower kept its leader")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := follower.node.Propose(ctx, []byte("lost")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("propose without a leader: %v, want the context's deadline", err)
	}

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- follower.node.Propose(ctx, []byte("after"))
	}()
	select {
	case err := <-done:
		t.Fatalf("propose returned %v while no leader is known", err)
	case <-time.After(50 * time.Millisecond):
	}
	net.mu.Lock()
	net.down[follower.node.ID()] = false
	net.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("propose once the leader is back: %v", err)
	}
	waitApplied(t, members, []string{"after"})
}

// TestIdleMembersDoNotSync: heartbeats change no hard state and append no
// entry, so they must not cost an fsync on any member.
func TestIdleMembersDoNotSync(t *testing.T) {
	_, members := startTestCluster(t, 3)
	leader := waitLeader(t, members)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := leader.node.Propose(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, members, []string{"x"})
	time.Sleep(50 * time.Millisecond) // the commit index reaches the followers
	before := make([]int64, len(members))
	for i, m := range members {
		before[i] = m.fsyncs.Load()
	}
	time.Sleep(300 * time.Millisecond) // 30 heartbeat intervals
	for i, m := range members {
		if got := m.fsyncs.Load() - before[i]; got != 0 {
			t.Errorf("member %x synced its log %d times while idle", m.node.ID(), got)
		}
	}
}

func TestNodeStoppedRefusesRequests(t *testing.T) {
	_, members := startTestCluster(t, 1)
	waitLeader(t, members)
	n := members[0].node
	n.Stop()
	n.Stop() // a second stop is harmless
	if err := n.Propose(context.Background(), []byte("x")); !errors.Is(err, raft.ErrStopped) {
		t.Errorf("propose after stop: %v, want %v", err, raft.ErrStopped)
	}
	if err := n.ReadIndex(context.Background(), []byte("r")); !errors.Is(err, raft.ErrStopped) {
		t.Errorf("read index after stop: %v, want %v", err, raft.ErrStopped)
	}
}

// TestLeaderCountsLateHeartbeats: a leader whose loop is held up sends its
// next heartbeats late, and counts them.
func TestLeaderCountsLateHeartbeats(t *testing.T) {
	net, members := startTestCluster(t, 3, func(c *Config) {
		c.TickInterval = 50 * time.Millisecond
		c.ElectionTicks = 20 // the followers wait out the stall
	})
	leader := waitLeader(t, members)
	time.Sleep(200 * time.Millisecond) // a few heartbeats on time
	before := leader.lateHeartbeats.Load()
	net.mu.Lock()
	net.stall, net.stallFrom = 400*time.Millisecond, leader.node.ID()
	net.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for leader.lateHeartbeats.Load() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if leader.lateHeartbeats.Load() == before {
		t.Fatal("no late heartbeat counted after the leader's loop was held up for 400 ms")
	}
}

func TestHeartbeatWatch(t *testing.T) {
	w := newHeartbeatWatch(100 * time.Millisecond)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		to   uint64
		at   time.Duration
		late time.Duration
	}{
		{2, 0, 0},                      // first heartbeat to 2: never late
		{3, 10 * time.Millisecond, 0},  // first to 3
		{2, 100 * time.Millisecond, 0}, // on time
		{2, 300 * time.Millisecond, 0}, // exactly twice the interval: allowed
		{2, 550 * time.Millisecond, 50 * time.Millisecond},
		{3, 560 * time.Millisecond, 350 * time.Millisecond},
	}
	for _, s := range steps {
		if got := w.sent(s.to, t0.Add(s.at)); got != s.late {
			t.Errorf("heartbeat to %d at %v: late by %v, want %v", s.to, s.at, got, s.late)
		}
	}
	w.reset()
	if got := w.sent(2, t0.Add(10*time.Second)); got != 0 {
		t.Errorf("first heartbeat after a reset: late by %v, want 0", got)
	}
}
