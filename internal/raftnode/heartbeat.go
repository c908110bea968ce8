package raftnode

import "time"

// heartbeatWatch notices a leader that sends a member's heartbeats late:
// more than twice the heartbeat interval after the previous one, which
// happens when the loop that sends them is held up (a slow disk, an
// overloaded machine), and followers may then start elections. It is what
// etcd counts as heartbeat send failures. Only the raft loop uses it.
type heartbeatWatch struct {
	max  time.Duration
	last map[uint64]time.Time
}

func newHeartbeatWatch(interval time.Duration) *heartbeatWatch {
	return &heartbeatWatch{max: 2 * interval, last: map[uint64]time.Time{}}
}

// sent records a heartbeat to member to at now; it returns by how much the
// heartbeat was later than allowed, or 0.
func (w *heartbeatWatch) sent(to uint64, now time.Time) time.Duration {
	prev, ok := w.last[to]
	w.last[to] = now
	if !ok {
		return 0
	}
	if late := now.Sub(prev) - w.max; late > 0 {
		return late
	}
	return 0
}

// reset forgets every member: the next heartbeat after a change of leader
// or a quiet spell is never late.
func (w *heartbeatWatch) reset() { clear(w.last) }
