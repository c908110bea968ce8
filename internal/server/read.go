package server

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// readRound is one ReadIndex round shared by every linearizable read that
// arrived before it started.
type readRound struct {
	done chan struct{}
	err  error
}

func newReadRound() *readRound { return &readRound{done: make(chan struct{})} }

func (r *readRound) finish(err error) {
	r.err = err
	close(r.done)
}

// linearizableWait returns once this member has applied everything that was
// committed when the call began, so a local read reflects every write
// acknowledged before it (ReadIndex). Concurrent callers share one round.
func (s *Server) linearizableWait(ctx context.Context) error {
	s.readMu.Lock()
	round := s.nextRead
	s.readMu.Unlock()
	select {
	case s.readKick <- struct{}{}:
	default:
	}
	select {
	case <-round.done:
		return round.err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopping:
		return v3rpc.ErrStopped
	}
}

// readLoop runs ReadIndex rounds: each takes every waiting reader, asks raft
// for the commit index and waits until it is applied.
func (s *Server) readLoop() {
	defer s.wg.Done()
	var reqID uint64
	for {
		select {
		case <-s.readKick:
		case <-s.stopping:
			return
		}
		s.readMu.Lock()
		round := s.nextRead
		s.nextRead = newReadRound()
		s.readMu.Unlock()
		reqID++
		index, err := s.readIndex(reqID)
		if err == nil {
			err = s.waitApplied(index)
		}
		round.finish(err)
	}
}

// readIndex asks raft for the read index, retrying while the request may
// have been lost (no leader yet, a leader change), until the request timeout.
func (s *Server) readIndex(reqID uint64) (uint64, error) {
	rctx := make([]byte, 8)
	binary.BigEndian.PutUint64(rctx, reqID)
	deadline := time.NewTimer(s.reqTimeout)
	defer deadline.Stop()
	retry := time.NewTicker(s.cfg.HeartbeatInterval * 5)
	defer retry.Stop()
	send := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout)
		defer cancel()
		err := s.node.ReadIndex(ctx, rctx)
		if err != nil {
			select {
			case <-s.stopping: // not a failure: the member stops
			default:
				s.metrics.ReadIndexFailed()
			}
		}
		return err
	}
	if err := send(); err != nil {
		return 0, v3rpc.ErrStopped
	}
	for {
		select {
		case rs := <-s.node.ReadStates():
			if len(rs.RequestCtx) == 8 && binary.BigEndian.Uint64(rs.RequestCtx) == reqID {
				return rs.Index, nil
			}
			// A late answer to an earlier, abandoned round: skip it.
		case <-retry.C:
			// etcd's warning and count for a read index not answered in time.
			s.lg.Warn("waiting for ReadIndex response took too long, retrying", "sent-request-id", reqID, "retry-timeout", s.cfg.HeartbeatInterval*5)
			s.metrics.SlowReadIndex()
			if err := send(); err != nil {
				return 0, v3rpc.ErrStopped
			}
		case <-deadline.C:
			s.lg.Warn("timed out waiting for read index response (local node might have slow network)", "timeout", s.reqTimeout)
			s.metrics.SlowReadIndex()
			if s.node.Leader() == 0 {
				return 0, v3rpc.ErrNoLeader
			}
			return 0, v3rpc.ErrTimeout
		case <-s.stopping:
			return 0, v3rpc.ErrStopped
		}
	}
}

// waitApplied blocks until the applied index reaches index.
func (s *Server) waitApplied(index uint64) error {
	ch := s.applied.waitFor(index)
	t := time.NewTimer(s.reqTimeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return v3rpc.ErrTimeout
	case <-s.stopping:
		return v3rpc.ErrStopped
	}
}

// appliedNotifier wakes waiters once the applied index reaches theirs.
type appliedNotifier struct {
	mu      sync.Mutex
	applied uint64
	waiters map[uint64]chan struct{}
}

func newAppliedNotifier(applied uint64) *appliedNotifier {
	return &appliedNotifier{applied: applied, waiters: map[uint64]chan struct{}{}}
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (a *appliedNotifier) waitFor(index uint64) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if index <= a.applied {
		return closedChan
	}
	ch, ok := a.waiters[index]
	if !ok {
		ch = make(chan struct{})
		a.waiters[index] = ch
	}
	return ch
}

func (a *appliedNotifier) advance(index uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if index <= a.applied {
		return
	}
	a.applied = index
	for i, ch := range a.waiters {
		if i <= index {
			close(ch)
			delete(a.waiters, i)
		}
	}
}
