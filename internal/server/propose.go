package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// maxApplyGap is how far the applier may fall behind the commit index before
// new proposals are refused with "too many requests", as etcd does.
const maxApplyGap = 5000

// idGen makes request IDs unique across members (the member ID's low 16
// bits lead) and across restarts (the counter starts from the clock).
type idGen struct {
	prefix uint64
	n      atomic.Uint64
}

func newIDGen(memberID uint64, now time.Time) *idGen {
	g := &idGen{prefix: (memberID & 0xffff) << 48}
	g.n.Store(uint64(now.UnixMilli()) << 8)
	return g
}

func (g *idGen) next() uint64 { return g.prefix | (g.n.Add(1) & (1<<48 - 1)) }

// waitRegistry hands apply results to the proposers waiting for them. It
// also ends the waits that outlive their shared deadline or the member, so
// that a proposer waits on its own channel and its client's context alone:
// with every proposer also parked on the shared deadline's channel and the
// member's stop channel, those two channels' locks were contended by all
// of them (4% of a member's CPU under 256 putting clients).
type waitRegistry struct {
	mu      sync.Mutex
	m       map[uint64]chan apply.Result
	stopped bool
}

// errWaitExpired ends a wait whose deadline passed before its result came.
var errWaitExpired = errors.New("proposal wait expired")

func newWaitRegistry() *waitRegistry { return &waitRegistry{m: map[uint64]chan apply.Result{}} }

// register waits for id's result; once the registry is stopped the wait
// ends at once with ErrStopped.
func (w *waitRegistry) register(id uint64) <-chan apply.Result {
	return w.registerUntil(id, nil)
}

// registerUntil is register whose wait also ends, with errWaitExpired,
// when d (if not nil) is done.
func (w *waitRegistry) registerUntil(id uint64, d *deadlineCtx) <-chan apply.Result {
	ch := make(chan apply.Result, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.stopped:
		ch <- apply.Result{Err: v3rpc.ErrStopped}
	case d != nil && d.Err() != nil:
		ch <- apply.Result{Err: errWaitExpired}
	default:
		w.m[id] = ch
		if d != nil {
			d.waiting = append(d.waiting, id)
		}
	}
	return ch
}

func (w *waitRegistry) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

func (w *waitRegistry) cancel(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// Trigger implements apply.Waiter.
func (w *waitRegistry) Trigger(id uint64, r apply.Result) {
	w.mu.Lock()
	ch, ok := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ok {
		ch <- r
	}
}

// expire ends, with errWaitExpired, the waits registered until d that are
// still waiting; d is done.
func (w *waitRegistry) expire(d *deadlineCtx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range d.waiting {
		w.endLocked(id, errWaitExpired)
	}
	d.waiting = nil
}

// stop ends every wait, now and to come, with ErrStopped.
func (w *waitRegistry) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	for id := range w.m {
		w.endLocked(id, v3rpc.ErrStopped)
	}
}

func (w *waitRegistry) endLocked(id uint64, err error) {
	if ch, ok := w.m[id]; ok {
		delete(w.m, id)
		ch <- apply.Result{Err: err}
	}
}

// propose replicates r through raft and waits until it is applied. The
// result's error is the request's own outcome (e.g. a compacted revision).
func (s *Server) propose(ctx context.Context, r *pb.InternalRaftRequest) (proto.Message, error) {
	if s.node.CommitIndex() > s.node.Applied()+maxApplyGap {
		return nil, v3rpc.ErrTooManyRequests
	}
	id := s.ids.next()
	r.Header = &pb.RequestHeader{ID: id}
	data, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(data) > int(s.cfg.MaxRequestBytes) {
		return nil, v3rpc.ErrRequestTooLarge
	}
	// The server's timeout; handing raft only this one, a proposal raft
	// cannot take (no leader) notices a client that gave up only then.
	deadline := s.deadlines.next()
	ch := s.wait.registerUntil(id, deadline)
	fail := func(err error) (proto.Message, error) {
		s.wait.cancel(id)
		s.metrics.ProposalFailed()
		return nil, s.proposeError(ctx, deadline, err)
	}
	if err := s.node.Propose(deadline, data); err != nil {
		return fail(err)
	}
	select {
	case res := <-ch:
		if res.Err == errWaitExpired {
			return fail(res.Err)
		}
		return res.Resp, res.Err
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

// proposeError tells the client's own cancellation apart from the server's
// request timeout, and a lost leader from a slow cluster.
func (s *Server) proposeError(clientCtx, ctx context.Context, err error) error {
	if clientCtx.Err() != nil {
		return clientCtx.Err()
	}
	select {
	case <-s.stopping:
		return v3rpc.ErrStopped
	default:
	}
	if errors.Is(err, raft.ErrProposalDropped) || s.node.Leader() == 0 {
		if s.node.Leader() == 0 {
			return v3rpc.ErrNoLeader
		}
		return v3rpc.ErrLeaderChanged
	}
	if ctx.Err() != nil {
		return v3rpc.ErrTimeout
	}
	return err
}
