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

// waitRegistry hands apply results to the proposers waiting for them.
type waitRegistry struct {
	mu sync.Mutex
	m  map[uint64]chan apply.Result
}

func newWaitRegistry() *waitRegistry { return &waitRegistry{m: map[uint64]chan apply.Result{}} }

func (w *waitRegistry) register(id uint64) <-chan apply.Result {
	ch := make(chan apply.Result, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
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
	ch := s.wait.register(id)
	// The server's timeout; handing raft only this one, a proposal raft
	// cannot take (no leader) notices a client that gave up only then.
	deadline := s.deadlines.next()
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
		return res.Resp, res.Err
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-deadline.Done():
		return fail(deadline.Err())
	case <-s.stopping:
		return nil, v3rpc.ErrStopped
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
