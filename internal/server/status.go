package server

import (
	"context"

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
	return resp, nil
}

// Alarms implements v3rpc.MaintenanceBackend. No alarm can be raised yet.
func (s *Server) Alarms() []*pb.AlarmMember { return nil }

// MemberList implements v3rpc.ClusterBackend.
func (s *Server) MemberList(ctx context.Context, linearizable bool) ([]*pb.Member, error) {
	if linearizable {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	var out []*pb.Member
	for _, m := range s.cluster.Members() {
		out = append(out, &pb.Member{
			ID:         m.ID,
			Name:       m.Name,
			PeerURLs:   m.PeerURLs,
			ClientURLs: m.ClientURLs,
			IsLearner:  m.IsLearner,
		})
	}
	return out, nil
}
