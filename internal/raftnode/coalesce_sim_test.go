package raftnode

import (
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// simNode is one raft member of the simulation: a RawNode over memory
// storage, and the data of the entries it applied, in order.
type simNode struct {
	id      uint64
	rn      *raft.RawNode
	store   *raft.MemoryStorage
	applied []string
}

// simNet delivers messages between simulated members, first in first out
// per pair of members (as one peer stream does), dropping some while lossy.
type simNet struct {
	rng    *rand.Rand
	queues map[[2]uint64][]*raftpb.Message
	lossy  bool
	down   map[uint64]bool
}

func (n *simNet) send(m *raftpb.Message) {
	if n.down[m.GetTo()] || n.down[m.GetFrom()] || (n.lossy && n.rng.IntN(5) == 0) {
		return
	}
	k := [2]uint64{m.GetFrom(), m.GetTo()}
	n.queues[k] = append(n.queues[k], m)
}

// TestCoalescedAppendsKeepRaftSafeAndLive runs three raft members whose
// outgoing messages go through coalesceAppends, as Node.send does, over a
// network that drops messages and isolates members for a while, with small
// messages and a short inflight window so that appends pile up, merge,
// get rejected and are retried. Every member must apply the same entries in
// the same order (safety), and once the network heals every entry a leader
// acknowledged must be applied everywhere (liveness: merged appends do not
// stall a follower's flow control or commit index).
func TestCoalescedAppendsKeepRaftSafeAndLive(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runCoalesceSim(t, seed) })
	}
}

func runCoalesceSim(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	const maxBytes = 64
	nodes := map[uint64]*simNode{}
	for id := uint64(1); id <= 3; id++ {
		st := raft.NewMemoryStorage()
		if err := st.ApplySnapshot(&raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
			Index: proto.Uint64(1), Term: proto.Uint64(1), ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}); err != nil {
			t.Fatal(err)
		}
		rn, err := raft.NewRawNode(&raft.Config{
			ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: st,
			MaxSizePerMsg: maxBytes, MaxInflightMsgs: 4, MaxUncommittedEntriesSize: 1 << 20,
			CheckQuorum: true, PreVote: true,
			Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
		})
		if err != nil {
			t.Fatal(err)
		}
		nodes[id] = &simNode{id: id, rn: rn, store: st}
	}
	net := &simNet{rng: rng, queues: map[[2]uint64][]*raftpb.Message{}, down: map[uint64]bool{}}
	merged := 0
	// acked holds the entries a leader saw committed.
	acked := map[string]bool{}
	proposed := 0

	ready := func(n *simNode) {
		for n.rn.HasReady() {
			rd := n.rn.Ready()
			if !raft.IsEmptySnap(rd.Snapshot) {
				if err := n.store.ApplySnapshot(rd.Snapshot); err != nil {
					t.Fatal(err)
				}
			}
			if err := n.store.Append(rd.Entries); err != nil {
				t.Fatal(err)
			}
			if !raft.IsEmptyHardState(rd.HardState) {
				if err := n.store.SetHardState(rd.HardState); err != nil {
					t.Fatal(err)
				}
			}
			out := coalesceAppends(rd.Messages, maxBytes)
			merged += len(rd.Messages) - len(out)
			for _, m := range out {
				net.send(m)
			}
			leader := n.rn.BasicStatus().Lead == n.id
			for _, e := range rd.CommittedEntries {
				if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
					continue
				}
				n.applied = append(n.applied, string(e.GetData()))
				if leader {
					acked[string(e.GetData())] = true
				}
			}
			n.rn.Advance(rd)
		}
	}
	// Streams and members are visited in a fixed order (raft's own
	// election timeouts are still random, so a seed does not replay a run
	// exactly).
	var pairs [][2]uint64
	for from := uint64(1); from <= 3; from++ {
		for to := uint64(1); to <= 3; to++ {
			pairs = append(pairs, [2]uint64{from, to})
		}
	}
	deliver := func() {
		for _, k := range pairs {
			q := net.queues[k]
			if len(q) == 0 {
				continue
			}
			// Deliver a random prefix of each stream.
			cut := 1 + rng.IntN(len(q))
			delete(net.queues, k)
			for _, m := range q[:cut] {
				_ = nodes[m.GetTo()].rn.Step(m)
			}
			if cut < len(q) {
				net.queues[k] = append(q[cut:], net.queues[k]...)
			}
		}
	}
	step := func(faults bool) {
		if faults {
			net.lossy = rng.IntN(3) == 0
			if rng.IntN(40) == 0 {
				clear(net.down)
				if rng.IntN(2) == 0 {
					net.down[1+rng.Uint64N(3)] = true
				}
			}
		}
		for id := uint64(1); id <= 3; id++ {
			n := nodes[id]
			if rng.IntN(3) == 0 {
				n.rn.Tick()
			}
			if n.rn.BasicStatus().RaftState == raft.StateLeader && !net.down[n.id] {
				// Several proposals per round: the leader's Ready then
				// holds several appends to each follower.
				for range 1 + rng.IntN(6) {
					proposed++
					_ = n.rn.Propose([]byte(fmt.Sprintf("p%05d", proposed)))
				}
			}
			ready(n)
		}
		deliver()
	}
	for range 3000 {
		step(true)
	}
	net.lossy = false
	clear(net.down)
	converged := func() bool {
		for _, n := range nodes {
			if len(n.applied) != len(nodes[1].applied) {
				return false
			}
		}
		return true
	}
	for i := 0; i < 5000 && !(i > 100 && converged()); i++ {
		// No new proposals while settling: step without the leader's.
		for id := uint64(1); id <= 3; id++ {
			nodes[id].rn.Tick()
			ready(nodes[id])
		}
		deliver()
	}

	if merged == 0 {
		t.Fatal("no appends were merged: the simulation does not exercise coalescing")
	}
	// Safety: one order of entries everywhere, each entry once.
	ref := nodes[1].applied
	for id := uint64(1); id <= 3; id++ {
		n := nodes[id]
		if len(n.applied) != len(ref) {
			t.Fatalf("member %d applied %d entries, member 1 %d", n.id, len(n.applied), len(ref))
		}
		seen := map[string]bool{}
		for i, d := range n.applied {
			if d != ref[i] {
				t.Fatalf("member %d applied %q at position %d, member 1 %q", n.id, d, i, ref[i])
			}
			if seen[d] {
				t.Fatalf("member %d applied %q twice", n.id, d)
			}
			seen[d] = true
		}
		// Liveness: every acknowledged entry reached every member.
		for d := range acked {
			if !seen[d] {
				t.Fatalf("member %d never applied acknowledged entry %q", n.id, d)
			}
		}
	}
	t.Logf("%d proposals, %d applied everywhere, %d acknowledged, %d appends merged away", proposed, len(ref), len(acked), merged)
}
