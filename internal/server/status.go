package server

import (
	"context"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/v3rpc"
	"github.com/cairn-kv/cairn/internal/version"
)

// defaultQuotaBytes is the backend quota reported when none is configured.
const defaultQuotaBytes = 2 << 30

// FillHeader implements v3rpc.Header.
func (s *Server) FillHeader(h *pb.ResponseHeader) {
	h.ClusterId = s.clusterID
	h.MemberId = s.memberID
	h.RaftTerm = s.node.Term()
	if h.Revision == 0 {
		h.Revision = s.kv.Rev()
	}
}

// Status implements v3rpc.MaintenanceBackend.
func (s *Server) Status(ctx context.Context) (*pb.StatusResponse, error) {
	if _, err := s.authenticated(ctx); err != nil {
		return nil, err
	}
	quota := s.cfg.QuotaBackendBytes
	if quota <= 0 {
		quota = defaultQuotaBytes
	}
	resp := &pb.StatusResponse{
		Header:           &pb.ResponseHeader{},
		Version:          version.EtcdVersion,
		DbSize:           s.eng.SizeBytes(),
		DbSizeInUse:      s.eng.LiveBytes(),
		DbSizeQuota:      quota,
		Leader:           s.node.Leader(),
		RaftIndex:        s.node.CommitIndex(),
		RaftTerm:         s.node.Term(),
		RaftAppliedIndex: s.node.Applied(),
		StorageVersion:   version.StorageVersion,
		DowngradeInfo:    &pb.DowngradeInfo{},
	}
	if m := s.cluster.Member(s.memberID); m != nil {
		resp.IsLearner = m.IsLearner
	}
	if resp.Leader == 0 {
		resp.Errors = append(resp.Errors, v3rpc.ErrNoLeader.Error())
	}
	for _, a := range s.alarms.List(pb.AlarmType_NONE) {
		resp.Errors = append(resp.Errors, fmt.Sprintf("memberID:%d alarm:%s ", a.MemberID, a.Alarm))
	}
	return resp, nil
}

// Alarms lists the active alarms.
func (s *Server) Alarms() []*pb.AlarmMember { return s.alarms.List(pb.AlarmType_NONE) }

// Alarm implements v3rpc.MaintenanceBackend. Listing reads the applied
// alarms after a linearizable wait; raising and clearing go through raft.
func (s *Server) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	check := s.requireAdmin
	if r.Action == pb.AlarmRequest_GET {
		check = s.authenticated
	}
	if _, err := check(ctx); err != nil {
		return nil, err
	}
	if r.Action == pb.AlarmRequest_GET {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
		return &pb.AlarmResponse{Header: &pb.ResponseHeader{}, Alarms: s.alarms.List(r.Alarm)}, nil
	}
	resp, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: r})
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AlarmResponse), nil
}

// HashKV implements v3rpc.MaintenanceBackend.
func (s *Server) HashKV(ctx context.Context, rev int64) (*pb.HashKVResponse, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	hash, compact, hashRev, err := s.kv.HashKV(rev)
	s.metrics.Hash(true, time.Since(start))
	if err != nil {
		return nil, err
	}
	if compact <= 0 {
		compact = -1 // nothing compacted yet: etcd reports -1
	}
	return &pb.HashKVResponse{Header: &pb.ResponseHeader{}, Hash: hash, CompactRevision: compact, HashRevision: hashRev}, nil
}

// Hash implements v3rpc.MaintenanceBackend.
func (s *Server) Hash(ctx context.Context) (*pb.HashResponse, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	hash, rev, err := s.kv.Hash()
	s.metrics.Hash(false, time.Since(start))
	if err != nil {
		return nil, err
	}
	return &pb.HashResponse{Header: &pb.ResponseHeader{Revision: rev}, Hash: hash}, nil
}

// IsLearner implements v3rpc.Learner.
func (s *Server) IsLearner() bool {
	m := s.cluster.Member(s.memberID)
	return m != nil && m.IsLearner
}

// Defragment implements v3rpc.MaintenanceBackend: a full compaction of the
// engine, which serves reads and writes all along.
func (s *Server) Defragment(ctx context.Context) error {
	if _, err := s.requireAdmin(ctx); err != nil {
		return err
	}
	start := time.Now()
	s.metrics.DefragInflight(true)
	err := s.eng.Compact(ctx)
	s.metrics.DefragInflight(false)
	if err != nil {
		return err
	}
	s.metrics.Defrag(time.Since(start))
	s.lg.Info("finished defragmenting", "took", time.Since(start).String(), "db-size", s.eng.SizeBytes())
	return nil
}
