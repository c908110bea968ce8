package server

import (
	"context"
	"math"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/lease"
)

const (
	// leaseTick is how often the leader looks for expired leases.
	leaseTick = 500 * time.Millisecond
	// maxRevokesPerTick bounds revocations proposed per tick (etcd revokes
	// at most 1000 leases a second).
	maxRevokesPerTick = 500
	// defaultCheckpointInterval is how often the leader replicates the
	// remaining TTL of every lease.
	defaultCheckpointInterval = 5 * time.Minute
	// checkpointsPerProposal bounds one checkpoint proposal.
	checkpointsPerProposal = 1000
)

// minLeaseTTL is etcd's minimum lease TTL: 1.5 election timeouts, rounded
// up to whole seconds.
func minLeaseTTL(electionTimeout time.Duration) int64 {
	return int64(math.Ceil(1.5 * electionTimeout.Seconds()))
}

// LeaseGrant implements v3rpc.LeaseBackend. A lease without an ID gets one
// here, before it is proposed, so every member applies the same ID.
func (s *Server) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if _, err := s.authenticated(ctx); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, leaseGrantCost); err != nil {
		return nil, err
	}
	if r.ID == 0 {
		r.ID = int64(s.ids.next() & math.MaxInt64)
	}
	resp, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseGrant: r})
	if err != nil {
		return nil, err
	}
	s.metrics.Lease("granted")
	s.metrics.LeaseTTL(resp.(*pb.LeaseGrantResponse).TTL)
	return resp.(*pb.LeaseGrantResponse), nil
}

// LeaseRevoke implements v3rpc.LeaseBackend.
func (s *Server) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkLeaseKeys(info, r.ID, true); err != nil {
		return nil, err
	}
	return s.revokeLease(ctx, r)
}

// revokeLease revokes through raft without permission checks (expiry).
func (s *Server) revokeLease(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseRevoke: r})
	if err != nil {
		return nil, err
	}
	s.metrics.Lease("revoked")
	return resp.(*pb.LeaseRevokeResponse), nil
}

// LeaseRenew implements v3rpc.LeaseBackend. Only the leader's clock counts:
// a follower forwards the keepalive to it.
func (s *Server) LeaseRenew(ctx context.Context, id int64) (int64, error) {
	if _, err := s.authenticated(ctx); err != nil {
		return 0, err
	}
	if s.node.IsLeader() {
		s.metrics.Lease("renewed")
		return s.lessor.Renew(id)
	}
	leader, err := s.waitLeader(ctx)
	if err != nil {
		return 0, err
	}
	ttl, err := s.transport.LeaseRenew(ctx, leader, id)
	return ttl, fromPeerError(err)
}

// LeaseTimeToLive implements v3rpc.LeaseBackend: answered from the leader's
// clock, forwarded there from followers. An unknown lease has TTL -1.
func (s *Server) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	info, err := s.authInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkLeaseKeys(info, r.ID, false); err != nil {
		return nil, err
	}
	if !s.node.IsLeader() {
		leader, err := s.waitLeader(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := s.transport.LeaseTimeToLive(ctx, leader, r)
		if err != nil {
			return nil, fromPeerError(err)
		}
		resp.Header = &pb.ResponseHeader{}
		return resp, nil
	}
	if err := s.linearizableWait(ctx); err != nil {
		return nil, err
	}
	return s.localTimeToLive(r)
}

func (s *Server) localTimeToLive(r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp := &pb.LeaseTimeToLiveResponse{Header: &pb.ResponseHeader{}, ID: r.ID, TTL: -1}
	remaining, granted, ok := s.lessor.Remaining(r.ID)
	if !ok {
		return resp, nil
	}
	resp.TTL, resp.GrantedTTL = remaining, granted
	if r.Keys {
		keys, err := lease.Keys(s.eng.DB(), r.ID)
		if err != nil {
			return nil, err
		}
		resp.Keys = keys
	}
	return resp, nil
}

// LeaseLeases implements v3rpc.LeaseBackend.
func (s *Server) LeaseLeases(ctx context.Context) (*pb.LeaseLeasesResponse, error) {
	if _, err := s.authenticated(ctx); err != nil {
		return nil, err
	}
	if err := s.linearizableWait(ctx); err != nil {
		return nil, err
	}
	ids := s.lessor.Leases()
	resp := &pb.LeaseLeasesResponse{Header: &pb.ResponseHeader{}, Leases: make([]*pb.LeaseStatus, len(ids))}
	for i, id := range ids {
		resp.Leases[i] = &pb.LeaseStatus{ID: id}
	}
	return resp, nil
}

// leaseLoop runs the leader's side of leases: the expiry clock follows
// leadership, expired leases are revoked through raft, and remaining TTLs
// are checkpointed.
func (s *Server) leaseLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(leaseTick)
	defer tick.Stop()
	interval := s.cfg.LeaseCheckpointInterval
	if interval <= 0 {
		interval = defaultCheckpointInterval
	}
	checkpoint := time.NewTicker(interval)
	defer checkpoint.Stop()
	s.followLeadership()
	for {
		select {
		case <-s.stopping:
			return
		case <-s.leaderChanged:
			s.followLeadership()
		case <-tick.C:
			s.followLeadership()
			s.revokeExpired()
			s.clearStaleCheckpoints()
		case <-checkpoint.C:
			s.checkpointLeases(context.Background())
		}
	}
}

// followLeadership starts or stops the expiry clock with leadership. A new
// leader gives every lease an extra election timeout: the time the cluster
// may have spent without a leader must not count against clients.
func (s *Server) followLeadership() {
	leader := s.node.IsLeader()
	if leader == s.lessor.IsPrimary() {
		return
	}
	if leader {
		s.lessor.Promote(s.cfg.ElectionTimeout)
		return
	}
	s.lessor.Demote()
}

func (s *Server) revokeExpired() {
	for _, id := range s.lessor.Expired(maxRevokesPerTick) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout)
			defer cancel()
			if _, err := s.revokeLease(ctx, &pb.LeaseRevokeRequest{ID: id}); err != nil {
				s.lg.Debug("cannot revoke expired lease; will retry", "lease", id, "error", err)
				return
			}
			s.metrics.Lease("expired")
		}()
	}
}

// clearStaleCheckpoints replicates a zero checkpoint (full TTL) for leases
// renewed since their last checkpoint. A failed proposal is not retried:
// the next renewal marks the lease again.
func (s *Server) clearStaleCheckpoints() {
	ids := s.lessor.StaleCheckpoints(checkpointsPerProposal)
	if len(ids) == 0 {
		return
	}
	req := &pb.LeaseCheckpointRequest{}
	for _, id := range ids {
		req.Checkpoints = append(req.Checkpoints, &pb.LeaseCheckpoint{ID: id})
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout)
		defer cancel()
		if _, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseCheckpoint: req}); err != nil {
			s.lg.Debug("cannot clear stale lease checkpoints", "error", err)
		}
	}()
}

// checkpointLeases replicates every lease's remaining TTL, so a restart or
// a new leader continues each lease's clock instead of restarting it.
func (s *Server) checkpointLeases(ctx context.Context) {
	cps := s.lessor.Checkpoints()
	for len(cps) > 0 {
		n := min(len(cps), checkpointsPerProposal)
		req := &pb.LeaseCheckpointRequest{}
		for _, cp := range cps[:n] {
			req.Checkpoints = append(req.Checkpoints, &pb.LeaseCheckpoint{ID: cp.ID, Remaining_TTL: cp.Remaining})
		}
		cps = cps[n:]
		if _, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseCheckpoint: req}); err != nil {
			s.lg.Warn("cannot checkpoint leases", "error", err)
			return
		}
	}
}
