package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

const (
	// learnerReadyPercent is how far a learner's log must have caught up
	// with the leader's before it may be promoted.
	learnerReadyPercent = 0.9
)

// MemberList implements v3rpc.ClusterBackend.
func (s *Server) MemberList(ctx context.Context, linearizable bool) ([]*pb.Member, error) {
	if _, err := s.authenticated(ctx); err != nil {
		return nil, err
	}
	if linearizable {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	var out []*pb.Member
	for _, m := range s.cluster.Members() {
		out = append(out, toPBMember(m))
	}
	return out, nil
}

func toPBMember(m *membership.Member) *pb.Member {
	return &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
}

func checkPeerURLs(urls []string) error {
	if len(urls) == 0 {
		return v3rpc.ErrBadPeerURLs
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v3rpc.ErrBadPeerURLs
		}
	}
	return nil
}

// MemberAdd implements v3rpc.ClusterBackend.
func (s *Server) MemberAdd(ctx context.Context, peerURLs []string, learner bool) (*pb.Member, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := checkPeerURLs(peerURLs); err != nil {
		return nil, err
	}
	if err := s.syncMembership(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	m := membership.NewMember("", peerURLs, s.cfg.InitialClusterToken, &now)
	if err := s.cluster.ValidateAdd(m); err != nil {
		return nil, err
	}
	typ := raftpb.ConfChangeAddNode
	if learner {
		typ = raftpb.ConfChangeAddLearnerNode
		if s.countLearners() >= s.cfg.MaxLearners {
			return nil, membership.ErrTooManyLearners
		}
	}
	if err := s.checkQuorumAfterAdd(ctx, learner); err != nil {
		return nil, err
	}
	m.IsLearner = learner
	if err := s.proposeConfChange(ctx, typ, m.ID, m); err != nil {
		return nil, err
	}
	return toPBMember(m), nil
}

// syncMembership makes the local membership current before a change is
// validated against it: a change just applied through another member (a
// removal freeing a learner slot, say) must not be refused here because
// this member has yet to apply it.
func (s *Server) syncMembership(ctx context.Context) error {
	return s.linearizableWait(ctx)
}

// MemberRemove implements v3rpc.ClusterBackend.
func (s *Server) MemberRemove(ctx context.Context, id uint64) error {
	if _, err := s.requireAdmin(ctx); err != nil {
		return err
	}
	if err := s.syncMembership(ctx); err != nil {
		return err
	}
	if err := s.cluster.ValidateRemove(id); err != nil {
		return err
	}
	if err := s.checkQuorumAfterRemove(ctx, id); err != nil {
		return err
	}
	return s.proposeConfChange(ctx, raftpb.ConfChangeRemoveNode, id, nil)
}

// MemberUpdate implements v3rpc.ClusterBackend.
func (s *Server) MemberUpdate(ctx context.Context, id uint64, peerURLs []string) error {
	if _, err := s.requireAdmin(ctx); err != nil {
		return err
	}
	if err := checkPeerURLs(peerURLs); err != nil {
		return err
	}
	if err := s.cluster.ValidateUpdate(id, peerURLs); err != nil {
		return err
	}
	m := s.cluster.Member(id)
	m.PeerURLs = peerURLs
	return s.proposeConfChange(ctx, raftpb.ConfChangeUpdateNode, id, m)
}

// MemberPromote implements v3rpc.ClusterBackend. Only the leader knows how
// far the learner got: followers forward the request to it.
func (s *Server) MemberPromote(ctx context.Context, id uint64) error {
	if _, err := s.requireAdmin(ctx); err != nil {
		return err
	}
	if !s.node.IsLeader() {
		leader, err := s.waitLeader(ctx)
		if err != nil {
			return err
		}
		if leader != s.memberID {
			return fromPeerError(s.transport.MemberPromote(ctx, leader, id))
		}
	}
	return s.promoteLearner(ctx, id)
}

// promoteLearner promotes learner id on the leader once it caught up.
func (s *Server) promoteLearner(ctx context.Context, id uint64) error {
	if err := s.cluster.ValidatePromote(id); err != nil {
		return err
	}
	if !s.learnerReady(id) {
		return v3rpc.ErrLearnerNotReady
	}
	m := s.cluster.Member(id)
	m.IsLearner = false
	if err := s.proposeConfChange(ctx, raftpb.ConfChangeAddNode, id, m); err != nil {
		return err
	}
	s.metrics.LearnerPromoted()
	return nil
}

func (s *Server) countLearners() int {
	n := 0
	for _, m := range s.cluster.Members() {
		if m.IsLearner {
			n++
		}
	}
	return n
}

// learnerReady reports whether learner id's log reached 90% of the leader's.
func (s *Server) learnerReady(id uint64) bool {
	st := s.node.Status()
	leader, ok := st.Progress[s.memberID]
	pr, ok2 := st.Progress[id]
	if !ok || !ok2 {
		return false
	}
	return float64(pr.Match) >= float64(leader.Match)*learnerReadyPercent
}

// started reports whether member id counts as started for
// --strict-reconfig-check: it published itself (as etcd counts it) and, when
// this member leads and so can tell, raft heard from it recently.
func (s *Server) started(id uint64) bool {
	m := s.cluster.Member(id)
	if m == nil || m.Name == "" {
		return false
	}
	if id == s.memberID || !s.node.IsLeader() {
		return true
	}
	pr, ok := s.node.Status().Progress[id]
	return ok && pr.RecentActive
}

// published reports whether member id published its name, which is how
// etcd counts a member as started.
func (s *Server) published(id uint64) bool {
	m := s.cluster.Member(id)
	return m != nil && m.Name != ""
}

// connected reports whether member id is reachable now: this member, or a
// peer the transport reaches, as etcd asks its transport. (Raft's
// RecentActive would not do: the leader clears it for every follower at
// each quorum check, and a check right then would find nobody.)
func (s *Server) connected(ctx context.Context, id uint64) bool {
	return id == s.memberID || s.transport.Reachable(ctx, id)
}

// checkQuorumAfterAdd applies --strict-reconfig-check to an addition, as
// etcd does: a voter needs the started voters to be a quorum of the larger
// cluster (a one-member cluster may always grow, so that a cluster restored
// from a backup can), and any addition needs every voter reachable.
func (s *Server) checkQuorumAfterAdd(ctx context.Context, learner bool) error {
	if !s.cfg.StrictReconfigCheck {
		return nil
	}
	voters := s.cluster.Voters()
	if !learner {
		started := 0
		for _, m := range voters {
			if s.published(m.ID) {
				started++
			}
		}
		total := len(voters) + 1
		if !(started == 1 && total == 2) && started < total/2+1 {
			return v3rpc.ErrNotEnoughStarted
		}
	}
	for _, m := range voters {
		if !s.connected(ctx, m.ID) {
			return v3rpc.ErrUnhealthy
		}
	}
	return nil
}

// checkQuorumAfterRemove applies --strict-reconfig-check to a removal, as
// etcd does: learners go freely; the started voters that remain must be a
// quorum of the remaining voters; an unreachable member may go, but a
// reachable one only if enough reachable voters stay for a quorum.
func (s *Server) checkQuorumAfterRemove(ctx context.Context, id uint64) error {
	if !s.cfg.StrictReconfigCheck {
		return nil
	}
	if m := s.cluster.Member(id); m != nil && m.IsLearner {
		return nil
	}
	voters := s.cluster.Voters()
	remaining, started := 0, 0
	for _, m := range voters {
		if m.ID == id {
			continue
		}
		remaining++
		if s.published(m.ID) {
			started++
		}
	}
	if started < remaining/2+1 {
		return v3rpc.ErrNotEnoughStarted
	}
	if id != s.memberID && !s.connected(ctx, id) {
		return nil
	}
	active := 0
	for _, m := range voters {
		if s.connected(ctx, m.ID) {
			active++
		}
	}
	if active-1 < 1+(len(voters)-1)/2 {
		return v3rpc.ErrUnhealthy
	}
	return nil
}

// proposeConfChange proposes a membership change and waits until it is
// applied (or refused at apply time).
func (s *Server) proposeConfChange(ctx context.Context, typ raftpb.ConfChangeType, id uint64, m *membership.Member) error {
	cc := &raftpb.ConfChange{Id: proto.Uint64(s.ids.next()), Type: typ.Enum(), NodeId: proto.Uint64(id)}
	if m != nil {
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		cc.Context = data
	}
	ch := s.wait.register(cc.GetId())
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout)
	defer cancel()
	if err := s.node.ProposeConfChange(cctx, cc); err != nil {
		s.wait.cancel(cc.GetId())
		return s.proposeError(ctx, cctx, err)
	}
	// A member removing itself may never apply its removal: the leader
	// stops replicating to it once the leader applied it. Learning from
	// the peers that it is removed answers the request as well.
	var removedSelf <-chan struct{}
	if typ == raftpb.ConfChangeRemoveNode && id == s.memberID {
		removedSelf = s.removed
	}
	select {
	case <-removedSelf:
		s.wait.cancel(cc.GetId())
		return nil
	case res := <-ch:
		// A member that removed itself stops shortly: its answer must go
		// out now, and it makes no further changes to wait for.
		if res.Err == nil && !(typ == raftpb.ConfChangeRemoveNode && id == s.memberID) {
			s.awaitRaftApplied(cctx)
		}
		return res.Err
	case <-cctx.Done():
		s.wait.cancel(cc.GetId())
		return s.proposeError(ctx, cctx, cctx.Err())
	case <-s.stopping:
		return v3rpc.ErrStopped
	}
}

// awaitRaftApplied waits until raft itself counts as applied every entry
// committed so far, the applied conf change among them. The proposer hears
// of the change while it is applied, before raft is told; raft turns a
// conf change proposed in between into an empty entry ("possible
// unapplied conf change"), which would leave the caller's next membership
// change waiting until it times out.
func (s *Server) awaitRaftApplied(ctx context.Context) {
	target := s.node.CommitIndex()
	for s.node.Status().Applied < target {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		}
	}
}

// MoveLeader implements v3rpc.MaintenanceBackend.
func (s *Server) MoveLeader(ctx context.Context, target uint64) error {
	if _, err := s.requireAdmin(ctx); err != nil {
		return err
	}
	if !s.node.IsLeader() {
		return v3rpc.ErrNotLeader
	}
	m := s.cluster.Member(target)
	if m == nil || m.IsLearner {
		return v3rpc.ErrBadTransferee
	}
	if target == s.memberID {
		return nil
	}
	return s.transferLeadership(ctx, target)
}

// transferLeadership asks raft to hand leadership to target and waits until
// it did, or ctx (bounded by the request timeout) ends.
func (s *Server) transferLeadership(ctx context.Context, target uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.reqTimeout)
	defer cancel()
	s.node.TransferLeadership(ctx, target)
	tick := time.NewTicker(s.cfg.HeartbeatInterval)
	defer tick.Stop()
	for s.node.Leader() != target {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return v3rpc.ErrTimeout
		}
	}
	return nil
}

// waitLeader returns the leader, waiting (within ctx and the request
// timeout) while there is none.
func (s *Server) waitLeader(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.reqTimeout)
	defer cancel()
	tick := time.NewTicker(s.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		if l := s.node.Leader(); l != 0 {
			return l, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return 0, v3rpc.ErrNoLeader
		case <-s.stopping:
			return 0, v3rpc.ErrStopped
		}
	}
}

// fromPeerError turns an error from a forwarded call back into the error
// the leader meant.
func fromPeerError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, known := range []error{
		membership.ErrIDRemoved, membership.ErrIDNotFound, membership.ErrMemberNotLearner,
		v3rpc.ErrLearnerNotReady, v3rpc.ErrNotLeader,
	} {
		if st.Message() == known.Error() {
			return known
		}
	}
	switch {
	case st.Message() == lease.ErrLeaseNotFound.Error():
		return lease.ErrLeaseNotFound
	case st.Message() == lease.ErrNotPrimary.Error():
		return v3rpc.ErrLeaderChanged
	case st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded:
		return v3rpc.ErrTimeout
	}
	return errors.New(st.Message())
}
