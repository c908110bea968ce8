package raftnode

import "go.etcd.io/raft/v3/raftpb"

// A leader in replicate state sends one append per proposal, so a busy
// Ready holds dozens of small appends to each follower. Each one the
// follower steps may become a Ready and an fsync of its own; merged, the
// follower persists them with one. coalesceAppends merges each run of
// consecutive appends to the same follower whose entries continue one
// another, up to maxBytes of entries. Raft treats the merged append exactly
// as the run: the same entries after the same (index, term), the newest
// commit, and one acknowledgement of the last index where the follower
// would have sent one per append; a rejection of the first append would
// have rejected the rest too (they continue its entries), and one ack or
// rejection frees the leader's inflight window as the run's would.
//
// One case differs: a follower drops an append whose previous index is
// below its commit index and answers with that commit index. Merged, the
// later appends of the run are dropped with it, where alone they would
// have been appended. Nothing is lost: the leader's next append (at the
// latest after the next heartbeat) no longer matches the follower's log,
// is rejected, and the leader probes back from what the follower holds.
// It only arises when a probe (sent after the leader lost track of the
// follower) and appends sent on a late acknowledgement share a Ready, so
// it costs at most a heartbeat, rarely.
func coalesceAppends(msgs []*raftpb.Message, maxBytes uint64) []*raftpb.Message {
	if len(msgs) < 2 {
		return msgs
	}
	out := msgs[:0:0]
	// last[to] is the position in out of the newest message to that peer,
	// and size[to] its entries' bytes.
	last := make(map[uint64]int)
	size := make(map[uint64]uint64)
	for _, m := range msgs {
		if i, ok := last[m.GetTo()]; ok && canMerge(out[i], m) && size[m.GetTo()]+entriesSize(m) <= maxBytes {
			out[i] = merge(out[i], m)
			size[m.GetTo()] += entriesSize(m)
			continue
		}
		last[m.GetTo()] = len(out)
		size[m.GetTo()] = entriesSize(m)
		out = append(out, m)
	}
	return out
}

// canMerge reports whether b continues a: both appends of the same term from
// the same sender, b's entries directly after a's.
func canMerge(a, b *raftpb.Message) bool {
	if a.GetType() != raftpb.MsgApp || b.GetType() != raftpb.MsgApp {
		return false
	}
	if a.GetTerm() != b.GetTerm() || a.GetFrom() != b.GetFrom() {
		return false
	}
	// Only plain appends: nothing raft would carry besides the entries.
	for _, m := range []*raftpb.Message{a, b} {
		if m.Snapshot != nil || m.Reject != nil || m.RejectHint != nil || m.Vote != nil || len(m.Context) > 0 || len(m.Responses) > 0 {
			return false
		}
	}
	n := uint64(len(a.Entries))
	if b.GetIndex() != a.GetIndex()+n {
		return false
	}
	if n == 0 {
		return b.GetLogTerm() == a.GetLogTerm()
	}
	return b.GetLogTerm() == a.Entries[n-1].GetTerm()
}

// merge returns a new append carrying a's position and both entry lists;
// a and b are not modified (raft may still hold them).
func merge(a, b *raftpb.Message) *raftpb.Message {
	m := &raftpb.Message{Type: a.Type, To: a.To, From: a.From, Term: a.Term, LogTerm: a.LogTerm, Index: a.Index, Commit: a.Commit}
	m.Entries = make([]*raftpb.Entry, 0, len(a.Entries)+len(b.Entries))
	m.Entries = append(append(m.Entries, a.Entries...), b.Entries...)
	if b.GetCommit() > a.GetCommit() {
		m.Commit = b.Commit
	}
	return m
}

func entriesSize(m *raftpb.Message) uint64 {
	var n uint64
	for _, e := range m.Entries {
		n += uint64(len(e.GetData()))
	}
	return n
}
